# The geometry stage: an observation's camera geometry (ISD) from its provider (sheet column
# geometry), a declared input of every rule that uses it (cassis_pipe/stages/geometry.py).
# spice: the meta-kernel and every kernel it names are inputs (new kernels rerun geometry and
# everything downstream), with the exposure times (command plan, or rule bern's records).


rule geometry:
    input:
        unpack(geometry_inputs),
    output:
        isd=f"{RESULTS}/{{obs}}/geometry/{{obs}}.json",
        stage=f"{RESULTS}/{{obs}}/geometry/geometry.json",
    params:
        provider=geometry_provider,
        cache_dir=KERNEL_CACHE,
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/geometry.log",
    benchmark:
        f"{BENCH}/{{obs}}/geometry.tsv"
    threads: threads_for("geometry")
    resources:
        mem_mb=mem("geometry"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/geometry.py"
