"""The live exchange: sources a bank fetches from on a schedule (StopNCII, NCMEC, ThreatExchange,
TCAP), with a checkpoint committed with the entries it covers, withdrawals applied in the same fetch,
bad records and pages quarantined, backoff on errors and rate limits, and a lease so one process
fetches each source.

Modules: ``sources`` (configuration, credentials, status), ``stopncii``, ``ncmec``,
``threatexchange``, ``tcap`` (the clients, over python-threatexchange's), ``fetcher`` (one fetch),
``feedback`` (verdicts queued for the sources), ``scheduler`` (the fetch loop in ``stanch serve``).
"""
