"""Face generation: the conditional GAN (gan*.py: ``moodshift generate``, ``train gan``,
``eval gan``) and the affect generator (affect*.py).

Kept free of imports so that ``moodshift.generate.portraits`` stays cheap to load; use
``moodshift.generate.gan.load_generator`` for the GAN.
"""
