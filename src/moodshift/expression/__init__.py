"""Facial expression classifiers behind one interface, plus their training and evaluation."""
