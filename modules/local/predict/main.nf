process SEQCLASS_PREDICT {
    tag "$meta.id"
    label 'process_gpu'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass CPU image, tagged with the pipeline version; -profile gpu swaps in the CUDA one
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(sequences)
    path model
    // a short-read model (NucArg): inputs shorter than the model's window and FASTQ reads go to it;
    // [] for none. Staged apart, since two model directories may share a name
    path short_model, stageAs: 'short/*'

    output:
    tuple val(meta), path("*.predictions.tsv"), emit: predictions
    tuple val(meta), path("*.tracks.tsv")     , emit: tracks
    path "versions.yml"                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def short_model_arg = short_model ? "--short-model ${short_model}" : ''
    """
    # --threads: BLAST of a similarity model, PyTorch on the CPU for the deep families
    seqclass predict \\
        --model ${model} \\
        --input ${sequences} \\
        --out ${prefix}.predictions.tsv \\
        --tracks ${prefix}.tracks.tsv \\
        --threads ${task.cpus} \\
        ${short_model_arg} \\
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
