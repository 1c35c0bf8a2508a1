"""Layer 5, the parallel run of a groups file: options and the run itself (``main``),
the groups file format, forked workers and their supervisor (``pool``), the durable
checkpoint, progress and signals (``run_log``), the io-contract output files and charts,
the run folder's layout and its one row locator (``rundir``), and the helper the remote
hosts run (``host_tools``). May import every layer below (engines, strategy, data, core);
never ``backtest.analysis`` or ``farm``.
"""
