process BWA_INDEX {
    tag "$meta.id"
    label 'process_single'

    // bwa and samtools are in the seqclass image and conda environment (containers/)
    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(fasta)

    output:
    tuple val(meta), path("bwa"), emit: index
    path "versions.yml"         , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    """
    mkdir bwa
    bwa index ${args} -p bwa/${fasta} ${fasta}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        bwa: \$(bwa 2>&1 | sed -n 's/^Version: //p')
    END_VERSIONS
    """

    stub:
    """
    mkdir bwa
    touch bwa/${fasta}.amb bwa/${fasta}.ann bwa/${fasta}.bwt bwa/${fasta}.pac bwa/${fasta}.sa

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        bwa: \$(bwa 2>&1 | sed -n 's/^Version: //p')
    END_VERSIONS
    """
}
