process SEQCLASS_SPLIT {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(dataset)

    output:
    tuple val(meta), path("*.split.parquet")     , emit: split
    tuple val(meta), path("*.split.leakage.tsv") , emit: leakage
    tuple val(meta), path("*.split.summary.json"), emit: summary
    path "versions.yml"                           , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    seqclass split \\
        --dataset ${dataset} \\
        --threads ${task.cpus} \\
        --out ${prefix}.split.parquet \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.split.parquet ${prefix}.split.leakage.tsv
    echo '{}' > ${prefix}.split.summary.json
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
