"""Photoreal portraits: MobileStyleGAN (FFHQ) steered along attribute directions in its style
space. Research / non-commercial use only (the weights descend from NVIDIA StyleGAN2 and FFHQ)."""
