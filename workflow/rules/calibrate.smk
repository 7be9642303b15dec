# Radiometric calibration -> level-1 I/F framelets and quick-looks.


rule calibrate:
    input:
        level0=rules.level0.output.stage,
        level0_dir=rules.level0.output.products,
        plan=rules.validate.output.plan,
        calibration=calibration_input,
        isd=geometry_isd,
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
        heliocentric_au=heliocentric_au,
        straylight_order=CALIB["straylight_order"],
        quicklook_max_side=CALIB["quicklook_max_side"],
        expand_binned=EXPAND_BINNED,
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/calibrate.log",
    benchmark:
        f"{BENCH}/{{obs}}/calibrate.tsv"
    threads: threads_for("calibrate")
    resources:
        mem_mb=mem("calibrate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/calibrate.py"
