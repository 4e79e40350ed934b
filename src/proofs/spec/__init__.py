"""What is to be shown: objectives, properties (the desirability Φ) and obligations.

TRUSTED (reading base): the kernel re-reads obligation files through these readers.
"""
