//
// Start and end of a run: parameter validation, input channels, completion message
//

include { validateParameters; paramsSummaryLog } from 'plugin/nf-schema'

workflow PIPELINE_INITIALISATION {

    take:
    validate_params // boolean: validate params against nextflow_schema.json
    mode            // string: 'train' or 'predict'
    input           // string: samplesheet (train) or sequence files, a path or glob (predict); null with --reads
    model           // string: model directory (predict), or null
    short_model     // string: short-read model directory beside model (predict), or null
    reads           // string: train: samplesheet of FASTQ pairs (sample,fastq_1,fastq_2) instead of input, or null
    alignment_files // list: [ reference, regions, phenotypes ] paths the --reads route needs (nulls without it)

    main:
    if (validate_params) {
        validateParameters()
    }
    log.info paramsSummaryLog(workflow)

    if (mode == 'predict' && !model) {
        error("--mode predict needs --model <model directory from a train run>")
    }
    if (short_model && mode != 'predict') {
        error("--short_model is for --mode predict; to train a short-read model beside the long one, give --short_window")
    }
    if (mode == 'predict' && (!input || reads)) {
        error("--mode predict needs --input (sequence files); aligned reads are scored by `seqclass predict --bam` (docs/usage.md)")
    }
    if (mode == 'train' && !input == !reads) {
        error("train mode needs one of --input (a samplesheet of labelled files) and --reads (a samplesheet of FASTQ pairs)")
    }
    if (reads && !alignment_files.every()) {
        error("--reads needs --reference, --regions and --phenotypes")
    }

    ch_reads           = Channel.empty()
    ch_alignment_files = Channel.empty()
    if (reads) {
        // one row per sample; paths are relative to the samplesheet
        def reads_sheet = file(reads, checkIfExists: true)
        ch_input = Channel.empty()
        ch_reads = Channel.fromPath(reads_sheet)
            .splitCsv(header: true, strip: true)
            .map { row -> [ [ id: row.sample ], [ resolveSamplesheetPath(row.fastq_1, reads_sheet), resolveSamplesheetPath(row.fastq_2, reads_sheet) ] ] }
        ch_alignment_files = Channel.value(alignment_files.collect { path -> file(path, checkIfExists: true) })
        ch_model = Channel.empty()
    } else if (mode == 'train') {
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
    ch_short_model = short_model ? Channel.value(file(short_model, checkIfExists: true, type: 'dir')) : Channel.value([])

    emit:
    input           = ch_input           // channel: train [ val(meta), val(label), path(file) ]; predict [ val(meta), path(file) ]; empty with --reads
    model           = ch_model           // channel: path(model dir) in predict mode, empty in train mode
    short_model     = ch_short_model     // channel: path(short-read model dir) with --short_model, else [] (a value channel)
    reads           = ch_reads           // channel: [ val(meta), [ path(fastq_1), path(fastq_2) ] ] with --reads, else empty
    alignment_files = ch_alignment_files // channel: [ path(reference), path(regions), path(phenotypes) ] with --reads, else empty
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
