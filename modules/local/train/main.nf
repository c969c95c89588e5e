process SEQCLASS_TRAIN {
    tag "$meta.id"
    label 'process_gpu'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass CPU image, tagged with the pipeline version; -profile gpu swaps in the CUDA one
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    tuple val(meta), path(dataset)
    path pretrained, stageAs: "pretrained/*" // a language model from SEQCLASS_PRETRAIN or a checkpoint directory; [] for none. Staged apart: it may share the name of the model this task writes

    output:
    tuple val(meta), path("*.model", type: 'dir')             , emit: model
    // loss and metrics by step, written by the families that train iteratively
    tuple val(meta), path("*.model/training_log.jsonl")       , emit: log, optional: true
    path "versions.yml"                                        , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args       = task.ext.args ?: ''
    def prefix     = task.ext.prefix ?: "${meta.id}"
    def pretrained_arg = pretrained ? "--pretrained ${pretrained}" : ''
    """
    # --threads: the BLAST threads of the similarity family; the other families ignore it
    seqclass train \\
        --dataset ${dataset} \\
        --out ${prefix}.model \\
        --threads ${task.cpus} \\
        ${pretrained_arg} \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    # the options the script would pass, as nf-core's stubs echo them: -stub runs check ext.args
    echo ${args}
    mkdir ${prefix}.model
    echo '{}' > ${prefix}.model/config.json
    echo '[]' > ${prefix}.model/labels.json
    touch ${prefix}.model/model.safetensors
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
