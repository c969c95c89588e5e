process SEQCLASS_PRETRAIN {
    tag "$meta.id"
    label 'process_gpu'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass CPU image, tagged with the pipeline version; -profile gpu swaps in the CUDA one
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(sequences, stageAs: 'sequences/?/*')

    output:
    tuple val(meta), path("*.lm", type: 'dir')         , emit: lm
    tuple val(meta), path("*.lm/training_log.jsonl")   , emit: log
    path "versions.yml"                                 , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    // language-model sizes and steps come through ext.args: see conf/modules.config
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    seqclass pretrain \\
        --input ${sequences} \\
        --out ${prefix}.lm \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir ${prefix}.lm
    echo '{}' > ${prefix}.lm/config.json
    touch ${prefix}.lm/model.safetensors ${prefix}.lm/training_log.jsonl
    echo '{}' > ${prefix}.lm/training.json
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
