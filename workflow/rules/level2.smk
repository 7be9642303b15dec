# Level 2: rotation-offset search -> stitched strips -> map products -> accuracy (simulated).
# Needs common.smk and level2_common.smk (included before this file) and the level-1 outputs of
# calibrate.smk. See docs/pipeline2.md.


rule rotation:
    input:
        level0_json=f"{RESULTS}/{{obs}}/level0/level0.json",
        calibrate_json=f"{RESULTS}/{{obs}}/level1/calibrate.json",
        level1_dir=f"{RESULTS}/{{obs}}/level1/framelets",
        tc=raw_tc,
    output:
        stage=f"{RESULTS}/{{obs}}/level2/rotation.json",
        plot=report(
            f"{RESULTS}/{{obs}}/level2/rotation_curve.png",
            caption="../report/level2_rotation.rst",
            category="Rotation offset",
            subcategory="{obs}",
        ),
    params:
        geometry_dir=geometry_dir,
        history=L2_HISTORY,
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/rotation.log",
    benchmark:
        f"{BENCH}/{{obs}}/rotation.tsv"
    threads: threads_for("rotation", 2)
    resources:
        mem_mb=mem("rotation", 2000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level2_rotation.py"


rule stitch:
    input:
        level0_json=f"{RESULTS}/{{obs}}/level0/level0.json",
        calibrate_json=f"{RESULTS}/{{obs}}/level1/calibrate.json",
        level1_dir=f"{RESULTS}/{{obs}}/level1/framelets",
        rotation=f"{RESULTS}/{{obs}}/level2/rotation.json",
    output:
        products=directory(f"{RESULTS}/{{obs}}/level1c/strips"),
        stage=f"{RESULTS}/{{obs}}/level1c/stitch.json",
    params:
        geometry_dir=geometry_dir,
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/{{obs}}/stitch.log",
    benchmark:
        f"{BENCH}/{{obs}}/stitch.tsv"
    threads: threads_for("stitch", 2)
    resources:
        mem_mb=mem("stitch", 2000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level2_stitch.py"


rule map_products:
    input:
        level0_json=f"{RESULTS}/{{obs}}/level0/level0.json",
        calibrate_json=f"{RESULTS}/{{obs}}/level1/calibrate.json",
        level1_dir=f"{RESULTS}/{{obs}}/level1/framelets",
        rotation=f"{RESULTS}/{{obs}}/level2/rotation.json",
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
        geometry_dir=geometry_dir,
        sclk=SCLK,
        lsk=LSK,
        pixel_m=L2_PIXEL_M,
    log:
        f"{LOGS}/{{obs}}/map_products.log",
    benchmark:
        f"{BENCH}/{{obs}}/map_products.tsv"
    threads: threads_for("map_products", 2)
    priority: 10
    resources:
        mem_mb=mem("map_products", 4000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level2_map.py"


rule accuracy:
    input:
        map_json=f"{RESULTS}/{{obs}}/level2/map.json",
        products=f"{RESULTS}/{{obs}}/level2/products",
        rotation=f"{RESULTS}/{{obs}}/level2/rotation.json",
    output:
        report(
            f"{RESULTS}/{{obs}}/level2/accuracy.json",
            caption="../report/level2_accuracy.rst",
            category="Accuracy",
            subcategory="{obs}",
        ),
    params:
        truth_dir=truth_dir,
    log:
        f"{LOGS}/{{obs}}/accuracy.log",
    benchmark:
        f"{BENCH}/{{obs}}/accuracy.tsv"
    threads: threads_for("accuracy", 2)
    resources:
        mem_mb=mem("accuracy", 3000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level2_accuracy.py"
