"""The trainer kit: what every moodshift trainer (expression, style, GAN, affect generator,
text head) shares, so each keeps only its config and its step function. Import from the
modules (this package imports nothing, so `precision` stays free of torch).

- checkpoint.py: atomic checkpoints, weights-only loading, one-line errors for wrong weights
- run.py: the run skeleton: progress bar, time budget, the one Ctrl-C contract
- card.py: the command lines a model card records (resumed runs list every command)
- precision.py: bf16 where the CPU has it; threads.py: 1 or 2 threads by measured speed
"""
