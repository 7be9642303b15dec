# Housekeeping (hk.bin) of every observation: frames per type, CRC rejects, gaps in time,
# limit violations per channel -> hk.json (reported by rule summary).


rule hk:
    input:
        hk=raw_hk,
    output:
        stage=f"{RESULTS}/{{obs}}/hk/hk.json",
    params:
        gap_threshold_s=HK["gap_threshold_s"],
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/hk.log",
    benchmark:
        f"{BENCH}/{{obs}}/hk.tsv"
    threads: threads_for("hk")
    resources:
        mem_mb=mem("hk"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/hk.py"
