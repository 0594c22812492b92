"""How a suite's runs get trained: jobs (``jobs``), executors that place them (``executors``), the suite
runner (``runner``) and the gate's calibration, which runs suites to measure the gate (``calibrate``)."""
