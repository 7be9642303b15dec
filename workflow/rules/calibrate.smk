# Stage 4: radiometric calibration -> level-1 I/F framelets and quick-looks.


rule calibrate:
    input:
        level0_json=f"{RESULTS}/{{obs}}/level0/level0.json",
        level0_dir=f"{RESULTS}/{{obs}}/level0/framelets",
        tc=raw_tc,
        calibration=calibration_input,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level1/framelets"),
        quicklook=report(
            directory(f"{RESULTS}/{{obs}}/level1/quicklook"),
            patterns=["{name}.jpg"],
            caption="../report/quicklook.rst",
            category="Quick-looks",
            subcategory="{obs}",
        ),
        stage=f"{RESULTS}/{{obs}}/level1/calibrate.json",
    params:
        calibration_dir=calibration_dir,
        geometry_dir=geometry_dir,
        heliocentric_au=heliocentric_au,
        straylight_order=CALIB.get("straylight_order", 1),
        quicklook_max_side=CALIB.get("quicklook_max_side", 1024),
        expand_binned=EXPAND_BINNED,
    log:
        f"{LOGS}/{{obs}}/calibrate.log",
    benchmark:
        f"{BENCH}/{{obs}}/calibrate.tsv"
    threads: threads_for("calibrate", 2)
    resources:
        mem_mb=mem("calibrate", 3000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/calibrate.py"
