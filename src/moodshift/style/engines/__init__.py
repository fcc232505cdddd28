"""How a stylised image is made: ``fast`` (pretrained feed-forward networks), ``optimize``
(Gatys optimisation, with its settings and image helpers) and ``trained`` (networks made by
`moodshift train style`). A new engine is a module here, a name in style/options.py (ENGINES,
ENGINE_OPTIONS) and a branch in style.stylize_image."""
