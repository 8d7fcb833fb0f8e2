"""Sweeps at scale: resumable Hydra sweeps, submitit launchers, run states and the status CLI.

Modules:
    job_info: who executes a run (host, pid, SLURM job, log files) and whether it is alive.
    threads: limit torch / OpenMP / BLAS threads to the CPUs a job was given.
    run_status: the state of one run directory (done, running, failed, ...).
    plan: compose every run of a sweep and decide which ones to launch.
    manifest: the expected runs of a sweep directory, recorded at each sweep.
    commands: the shortest ``python -m mfbench -m ...`` lines covering a set of runs.
    sweeper: the resumable Hydra sweeper (``hydra/sweeper=mfbench``, the default).
    launcher: submitit launchers that group runs, limit threads and contain failures.
    hydra_configs: the sweeper and launcher configs registered in Hydra's ConfigStore.
    status: ``python -m mfbench.status <sweep dir>``.
"""
