"""Where a suite is parsed: a suite file becomes validated recipes x datasets x seeds (``suite``), with its
sweep's trials (``sweep``). Reads the gate's rules and the published references through their parsers."""
