process SEQCLASS_INTERPRET {
    tag "$meta.id"
    label 'process_gpu'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass CPU image, tagged with the pipeline version; -profile gpu swaps in the CUDA one
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    // every input file at once, so that --ids (ext.args) may name records of any of them;
    // tracks may be an empty list: then no tracks.png
    tuple val(meta), path(model), path(sequences, stageAs: 'inputs/?/*'), path(tracks, stageAs: 'tracks/?/*')

    output:
    tuple val(meta), path("*.interpretation", type: 'dir')            , emit: interpretation
    tuple val(meta), path("*.interpretation/ism.tsv")                 , emit: ism
    tuple val(meta), path("*.interpretation/saliency.tsv")            , emit: saliency
    tuple val(meta), path("*.interpretation/*.saliency.png")          , emit: plots
    tuple val(meta), path("*.interpretation/tracks.png")              , emit: tracks_plot, optional: true
    path "versions.yml"                                               , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def track_flag = tracks ? "--tracks ${tracks}" : ''
    """
    seqclass interpret \\
        --model ${model} \\
        --input ${sequences} \\
        --out ${prefix}.interpretation \\
        ${track_flag} \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir ${prefix}.interpretation
    touch ${prefix}.interpretation/sequences.tsv ${prefix}.interpretation/ism.tsv
    touch ${prefix}.interpretation/saliency.tsv ${prefix}.interpretation/stub.saliency.png
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
