# The embedded sample: simulate the raw telemetry of rows with simulate=true when it is absent.


rule simulate:
    input:
        sim_config,
    output:
        science=f"{SIMROOT}/{{obs}}/science.bin",
        tc=f"{SIMROOT}/{{obs}}/tc.bin",
        hk=f"{SIMROOT}/{{obs}}/hk.bin",
        isd=f"{SIMROOT}/{{obs}}/geometry/{{obs}}.json",
        meta_kernel=f"{SIMROOT}/{{obs}}/kernels/sim.tm",
        kernels=[f"{SIMROOT}/{{obs}}/kernels/{name}" for name in SIM_KERNEL_FILES],
        faults=f"{SIMROOT}/{{obs}}/truth/faults.json",
        truth=f"{SIMROOT}/{{obs}}/truth/truth.json",
        stage=f"{SIMROOT}/{{obs}}/simulate.json",
    wildcard_constraints:
        obs=SIMULATED_RE,
    params:
        out_dir=f"{SIMROOT}/{{obs}}",
        size=SIM["size"],
        seed=SIM["seed"],
        sim_config=first_sim_config,
        kernels_dir=KERNELS_DIR,
    log:
        f"{LOGS}/{{obs}}/simulate.log",
    benchmark:
        f"{BENCH}/{{obs}}/simulate.tsv"
    threads: threads_for("simulate")
    resources:
        mem_mb=mem("simulate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/simulate.py"
