"""What a variant is made of: its objective (loss), its regularizers, and the variants registry that
combines them into recipes. Building blocks: imports nothing above ganbench's core, data, models and metrics."""
