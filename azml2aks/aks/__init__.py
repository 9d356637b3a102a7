"""The AKS cluster, judged without I/O: ``findings`` (the facts a doctor gathers and its report),
``capacity`` (Kubernetes quantities, VM sizes), ``doctor`` (the preflight rules: facts ->
pass/warn/fail findings with remedies), ``infraspec`` (``infra/<env>.yaml``) and ``infraplan``
(what ``azml2aks infra up`` would change). The reads and writes live in ``backends/azure``."""
