process SEQCLASS_CHUNK {
    tag "$meta.id"
    label 'process_low'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(dataset)

    output:
    tuple val(meta), path("*.chunks.parquet"), emit: chunks
    path "versions.yml"                       , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    // --window (and any other chunk option) comes through ext.args: see conf/modules.config
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    seqclass chunk \\
        --dataset ${dataset} \\
        --out ${prefix}.chunks.parquet \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.chunks.parquet
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
