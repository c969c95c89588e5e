process BWA_MEM_SORT {
    tag "$meta.id"
    label 'process_medium'

    // bwa and samtools are in the seqclass image and conda environment (containers/)
    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(reads)
    tuple val(meta2), path(index)

    output:
    tuple val(meta), path("*.bam"), path("*.bam.bai"), emit: bam
    path "versions.yml"                              , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    // the read group's SM tag names the sample for `seqclass build --bam`
    """
    INDEX=\$(find -L ./ -name "*.amb" | sed 's/\\.amb\$//')

    bwa mem \\
        ${args} \\
        -t ${task.cpus} \\
        -R '@RG\\tID:${prefix}\\tSM:${meta.id}' \\
        \$INDEX \\
        ${reads} \\
        | samtools sort --threads ${task.cpus} -o ${prefix}.bam -

    samtools index ${prefix}.bam

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        bwa: \$(bwa 2>&1 | sed -n 's/^Version: //p')
        samtools: \$(samtools --version | head -n 1 | sed 's/^samtools //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.bam ${prefix}.bam.bai

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        bwa: \$(bwa 2>&1 | sed -n 's/^Version: //p')
        samtools: \$(samtools --version | head -n 1 | sed 's/^samtools //')
    END_VERSIONS
    """
}
