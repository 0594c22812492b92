"""What judges the results: one statistics module (``statistics``) behind the gate (``gate``, against a
``baseline``), the run states (``states``), sweep selection (``selection``) and the reproductions of published
numbers (``reproduction``). Torch-free: it reads stored results, never trains."""
