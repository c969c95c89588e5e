process SEQCLASS_EVALUATE {
    tag "$meta.id"
    label 'process_low'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(model), path(dataset)

    output:
    tuple val(meta), path("*.evaluation", type: 'dir')      , emit: evaluation
    tuple val(meta), path("*.evaluation/metrics.json")      , emit: metrics
    tuple val(meta), path("*.evaluation/predictions.tsv")   , emit: predictions
    tuple val(meta), path("*.evaluation/*.png")             , emit: plots
    path "versions.yml"                                     , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    # --threads: BLAST of a similarity model, PyTorch on the CPU for the deep families
    seqclass evaluate \\
        --model ${model} \\
        --dataset ${dataset} \\
        --out ${prefix}.evaluation \\
        --threads ${task.cpus} \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir ${prefix}.evaluation
    echo '{}' > ${prefix}.evaluation/metrics.json
    touch ${prefix}.evaluation/predictions.tsv ${prefix}.evaluation/confusion_matrix.png
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
