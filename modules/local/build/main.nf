process SEQCLASS_BUILD {
    tag "$meta.id"
    label 'process_single'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    // labels[i] labels files[i]; an empty label lets `seqclass build` take it from --label-from
    tuple val(meta), val(labels), path(files, stageAs: 'inputs/?/*')
    // aligned reads instead (labels and files empty): one BAM per sample with its index, the regions,
    // the reference the reads were aligned to and the phenotypes (`build --bam`); all [] when unused
    tuple path(bams, stageAs: 'bam/*'), path(bais, stageAs: 'bam/*'), path(regions), path(reference), path(phenotypes)

    output:
    tuple val(meta), path("*.dataset.parquet")     , emit: dataset
    tuple val(meta), path("*.dataset.summary.json"), emit: summary
    path "versions.yml"                             , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    // Nextflow backslash-escapes staged paths in the script, so only the label is quoted
    def inputs = [labels, [files].flatten()].transpose()
        .collect { label, file -> label ? "'${label}'=${file}" : "${file}" }
        .join(' ')
    def sources = bams ?
        "--bam ${bams} --regions ${regions} --reference ${reference} --phenotypes ${phenotypes}" :
        "--input ${inputs}"
    """
    seqclass build \\
        ${sources} \\
        --out ${prefix}.dataset.parquet \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.dataset.parquet
    echo '{}' > ${prefix}.dataset.summary.json
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
