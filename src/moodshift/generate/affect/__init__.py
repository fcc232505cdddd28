"""The affect generator: trained only to make a frozen classifier (expression or mood) agree
with its target; the generator at run time (generator.py), networks, losses, loop and report."""
