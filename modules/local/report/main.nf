process SEQCLASS_REPORT {
    tag "$meta.id"
    label 'process_single'

    conda "${moduleDir}/../../../containers/environment.yml"
    // the seqclass image (containers/Dockerfile), tagged with the pipeline version
    container "ghcr.io/seqclass/seqclass:${workflow.manifest.version}"

    input:
    // each path may be an empty list when the run produced no such file
    tuple val(meta), path(dataset_summary), path(split_summary), path(leakage)
    path evaluations, stageAs: 'evaluations/*'
    path predictions, stageAs: 'predictions/*'
    path versions   , stageAs: 'versions/?/*'
    // model directories whose training_log.jsonl is drawn as curves, a section named after each
    path models       , stageAs: 'models/*'
    path interpretations, stageAs: 'interpretations/*'

    output:
    path "*_mqc/*"     , emit: multiqc_files
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args   = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def flags  = [
        dataset_summary ? "--dataset-summary ${dataset_summary}" : '',
        split_summary   ? "--split-summary ${split_summary}"     : '',
        leakage         ? "--leakage ${leakage}"                 : '',
        evaluations     ? "--evaluation ${evaluations}"  : '',
        predictions     ? "--predictions ${predictions}" : '',
        versions        ? "--versions ${versions}"       : '',
        models          ? "--training-log ${[models].flatten().collect { model -> "${model}/training_log.jsonl" }.join(' ')}" : '',
        interpretations ? "--interpretation ${interpretations}" : '',
    ].findAll().join(' \\\n        ')
    """
    seqclass report \\
        --out ${prefix}_mqc \\
        ${flags} \\
        ${args}

    seqclass versions --process '${task.process}' --out versions.yml
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir ${prefix}_mqc
    touch ${prefix}_mqc/seqclass_metrics_mqc.tsv
    seqclass versions --process '${task.process}' --out versions.yml
    """
}
