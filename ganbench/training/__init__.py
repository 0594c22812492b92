"""Where a run is trained: the loop and its trainers (``loop``, ``ensemble``), the run's random streams
(``seeding``), what it writes while training (``samples``, ``loggers``), and the tracker that watches a user's
own loop the same way (``tracking``, ``lightning``)."""
