# The geometry stage: an observation's camera geometry (ISD) from its provider (sheet column
# geometry), a declared input of every rule that uses it (cassis_pipe/stages/geometry.py).


rule geometry:
    input:
        geometry_source,
    output:
        isd=f"{RESULTS}/{{obs}}/geometry/{{obs}}.json",
        stage=f"{RESULTS}/{{obs}}/geometry/geometry.json",
    params:
        provider=geometry_provider,
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
