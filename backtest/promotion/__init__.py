"""Promotion: from a finished sweep to the live bot (``invoke promote``, ``invoke
preflight``; docs/PRODUCTION.md). Above :mod:`backtest.analysis`, whose results it judges.

- :mod:`~backtest.promotion.checklist`: a checklist line (:class:`Check`), its statuses,
  bad input (:class:`PromoteError`), the :class:`Deployment` judged;
- :mod:`~backtest.promotion.candidate`, :mod:`~backtest.promotion.control`,
  :mod:`~backtest.promotion.evidence`: what the lines look at (the combination, its control
  result and trades, the robustness file, the whole prop account);
- :mod:`~backtest.promotion.botfolder`: the bot folder (file names, ``.env``, log, news
  file, lock);
- :mod:`~backtest.promotion.backtest_checks` (item 1),
  :mod:`~backtest.promotion.bot_checks` (items 2-6) and
  :mod:`~backtest.promotion.sessions` (the sessions of items 2 and 6, their reconciles):
  one small function per line;
- :mod:`~backtest.promotion.setfile`: the ``.set`` file of a deployment;
- :mod:`~backtest.promotion.deploy`: writing the bot's files as one unit, rollback;
- :mod:`~backtest.promotion.flow`: :func:`promote` and :func:`preflight`.
"""
