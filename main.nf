#!/usr/bin/env nextflow
/*
 * seqclass: labelled DNA or protein sequences → trained, evaluated classifiers → predictions.
 *   nextflow run main.nf -profile test,local --outdir results
 * Parameters: nextflow.config (defaults) and nextflow_schema.json (validation); docs/usage.md.
 */

include { SEQCLASS                                    } from './workflows/seqclass'
include { PIPELINE_INITIALISATION; PIPELINE_COMPLETION } from './subworkflows/local/utils_seqclass_pipeline/main'

workflow {

    PIPELINE_INITIALISATION (
        params,
        params.help,
        params.validate_params,
        params.mode,
        params.input,
        params.model,
        params.short_model,
        params.reads,
        [ params.reference, params.regions, params.phenotypes ]
    )

    SEQCLASS (
        PIPELINE_INITIALISATION.out.input,
        PIPELINE_INITIALISATION.out.model,
        PIPELINE_INITIALISATION.out.short_model,
        PIPELINE_INITIALISATION.out.reads,
        PIPELINE_INITIALISATION.out.alignment_files,
        params.mode,
        params.window,
        params.short_window,
        params.pretrain_input,
        params.pretrained,
        (params.interpret || params.interpret_ids) as boolean,
        params.multiqc_config
    )

    PIPELINE_COMPLETION ( params.outdir )
}
