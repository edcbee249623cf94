"""The statistics room: genetic basics computed on dosages (no torch).

LD r² and greedy clumping, p-values from -log10 p, and the penalised logistic label
model p(y | G). It imports only :mod:`genosynth.data`.
"""
