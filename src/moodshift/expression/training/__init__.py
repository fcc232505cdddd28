"""`moodshift train expression` and the data it reads: dataset readers, the loop, distillation,
int8 quantisation, reports. Inference (own.py, own_runtime.py, load.py) imports nothing here."""
