"""Independently written GAN training loops in the styles users write, each watched by ``ganbench.track``:
the corpus the gate's detectors are held to (``benchmarks/corpus.py``). Every loop exposes
``train(data, seed, steps, g_lr, d_lr, d_init, out, suite, track) -> [(loss_d, loss_g), ...]``."""
