# Level 2: rotation-offset search -> offset history, stitched strips, map products -> accuracy
# against the simulator's truth (simulated rows). Only for rows with geometry (common.smk); the
# level-1 input is rule calibrate's, or rule bern's for Bern level-1b rows.


rule rotation:
    input:
        level0=level0_records,
        calibrate=level1_records,
        level1_dir=level1_products,
        isd=rules.geometry.output.isd,
    output:
        stage=f"{RESULTS}/{{obs}}/level2/rotation.json",
        plot=report(
            f"{RESULTS}/{{obs}}/level2/rotation_curve.png",
            caption="../report/level2_rotation.rst",
            category="Rotation offset",
            subcategory="{obs}",
        ),
    params:
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/rotation.log",
    benchmark:
        f"{BENCH}/{{obs}}/rotation.tsv"
    threads: threads_for("rotation")
    resources:
        mem_mb=mem("rotation"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/rotation.py"


rule offset_history:
    input:
        rotation_stages,
    output:
        LEVEL2["offset_history"],
    log:
        f"{LOGS}/offset_history.log",
    benchmark:
        f"{BENCH}/offset_history.tsv"
    threads: 1
    resources:
        mem_mb=500,
    conda:
        "../../environment.yml"
    script:
        "../scripts/offset_history.py"


rule stitch:
    input:
        level0=level0_records,
        calibrate=level1_records,
        level1_dir=level1_products,
        isd=rules.geometry.output.isd,
        rotation=rules.rotation.output.stage,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level1c/strips"),
        stage=f"{RESULTS}/{{obs}}/level1c/stitch.json",
    params:
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/stitch.log",
    benchmark:
        f"{BENCH}/{{obs}}/stitch.tsv"
    threads: threads_for("stitch")
    resources:
        mem_mb=mem("stitch"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/stitch.py"


rule map:
    input:
        level0=level0_records,
        calibrate=level1_records,
        level1_dir=level1_products,
        isd=rules.geometry.output.isd,
        geometry=rules.geometry.output.stage,
        rotation=rules.rotation.output.stage,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level2/products"),
        previews=report(
            directory(f"{RESULTS}/{{obs}}/level2/previews"),
            patterns=["{name}.png"],
            caption="../report/level2_composites.rst",
            category="Colour composites",
            subcategory="{obs}",
        ),
        stage=report(
            f"{RESULTS}/{{obs}}/level2/map.json",
            caption="../report/level2_map.rst",
            category="Validation",
            subcategory="{obs}",
        ),
    params:
        sclk=SCLK,
        lsk=LSK,
        pixel_m=LEVEL2["pixel_m"],
    log:
        f"{LOGS}/{{obs}}/map.log",
    benchmark:
        f"{BENCH}/{{obs}}/map.tsv"
    threads: threads_for("map")
    priority: 10
    resources:
        mem_mb=mem("map"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/map.py"


rule accuracy:
    input:
        map=rules.map.output.stage,
        products=rules.map.output.products,
        rotation=rules.rotation.output.stage,
        truth=truth_json,
    output:
        report(
            f"{RESULTS}/{{obs}}/level2/accuracy.json",
            caption="../report/level2_accuracy.rst",
            category="Accuracy",
            subcategory="{obs}",
        ),
    log:
        f"{LOGS}/{{obs}}/accuracy.log",
    benchmark:
        f"{BENCH}/{{obs}}/accuracy.tsv"
    threads: threads_for("accuracy")
    resources:
        mem_mb=mem("accuracy"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/accuracy.py"
