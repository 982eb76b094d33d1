"""Research code: the CA-MER-synth generator, training, validation choices and probes.

Run from models/ (``python3 -m research.<module>``). It builds the shipped checkpoints and the
numbers in RESULTS.md; nothing in the product package ``mosear`` imports it.
"""
