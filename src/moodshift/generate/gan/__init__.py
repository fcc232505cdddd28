"""The conditional portrait GAN: the generator at run time (generator.py), its networks, data
readers, training loop and evaluation."""
