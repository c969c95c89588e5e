process SEQCLASS_PREDICT {
    tag "$meta.id"
    label 'process_gpu'

    conda "${moduleDir}/../../../containers/environment.yml"

    input:
    tuple val(meta), path(sequences)
    path model

    output:
    tuple val(meta), path("*.predictions.tsv"), emit: predictions
    tuple val(meta), path("*.tracks.tsv")     , emit: tracks
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    seqclass predict \\
        --model ${model} \\
        --input ${sequences} \\
        --out ${prefix}.predictions.tsv \\
        --tracks ${prefix}.tracks.tsv \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.predictions.tsv ${prefix}.tracks.tsv
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
