//
// Start and end of a run: parameter validation, input channels, completion message
//

include { validateParameters; paramsSummaryLog } from 'plugin/nf-schema'

workflow PIPELINE_INITIALISATION {

    take:
    validate_params // boolean: validate params against nextflow_schema.json
    mode            // string: 'train' or 'predict'
    input           // string: samplesheet (train) or sequence files, a path or glob (predict)
    model           // string: model directory (predict), or null

    main:
    if (validate_params) {
        validateParameters()
    }
    log.info paramsSummaryLog(workflow)

    if (mode == 'predict' && !model) {
        error("--mode predict needs --model <model directory from a train run>")
    }

    if (mode == 'train') {
        // one row per labelled file; paths are relative to the samplesheet, as for `seqclass build`
        def sheet = file(input, checkIfExists: true)
        ch_input = Channel.fromPath(sheet)
            .splitCsv(header: true, strip: true)
            .map { row -> [ [ id: row.sample ], row.label ?: '', resolveSamplesheetPath(row.file, sheet) ] }
        ch_model = Channel.empty()
    } else {
        ch_input = Channel.fromPath(input, checkIfExists: true)
            .map { path -> [ [ id: sequenceFileId(path) ], path ] }
        ch_model = Channel.value(file(model, checkIfExists: true, type: 'dir'))
    }

    emit:
    input = ch_input // channel: train [ val(meta), val(label), path(file) ]; predict [ val(meta), path(file) ]
    model = ch_model // channel: path(model dir) in predict mode, empty in train mode
}

workflow PIPELINE_COMPLETION {

    take:
    outdir // string: params.outdir

    main:
    workflow.onComplete {
        if (workflow.success) {
            log.info "seqclass: completed; results in ${outdir}, run reports in ${outdir}/pipeline_info"
        } else {
            log.error "seqclass: failed; see ${outdir}/pipeline_info and the .nextflow.log"
        }
    }
}

//
// A samplesheet path: absolute or a URL as given, otherwise relative to the samplesheet
//
def resolveSamplesheetPath(String path, sheet) {
    def given = path.trim()
    if (given.startsWith('/') || given =~ /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//) {
        return file(given, checkIfExists: true)
    }
    return file(sheet.parent.resolve(given).toString(), checkIfExists: true)
}

//
// `my contigs.fa.gz` → `my_contigs`: the file name without compression and format suffixes,
// reduced to characters that are safe in the output file names built from it
//
def sequenceFileId(path) {
    return path.name.replaceAll(/\.(gz|bz2)$/, '').replaceAll(/\.[^.]+$/, '').replaceAll(/[^A-Za-z0-9._-]/, '_')
}
