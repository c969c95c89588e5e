//
// Start and end of a run: --help, parameter and samplesheet validation, input channels,
// completion message.
//
// Parameters are checked against nextflow_schema.json before any task starts, offline, by the
// dev.harrel json-schema library (JSON Schema draft 2020-12; the library nf-schema 2 uses),
// which Nextflow finds on its classpath (tools/nextflow/pom.xml). The pipeline adds the
// keywords nf-schema adds for file inputs: `format` file-path | directory-path | path |
// file-path-pattern with `exists`, `schema` (a samplesheet's own schema, checked row by row),
// `uniqueEntries` and `errorMessage`. Every problem is one line naming the parameter or the
// samplesheet line; all of them are reported together.
//

workflow PIPELINE_INITIALISATION {

    take:
    parameters      // map: every pipeline parameter (params)
    help            // boolean or string: print the parameters (or one parameter) and stop
    validate_params // boolean: check parameters against nextflow_schema.json
    mode            // string: 'train' or 'predict'
    input_path      // string: samplesheet (train) or sequence files, a path or glob (predict); null with --reads
    model_path      // string: model directory (predict), or null
    short_model_path // string: short-read model directory beside the model (predict), or null
    reads_sheet     // string: train: samplesheet of FASTQ pairs (sample,fastq_1,fastq_2) instead of input, or null
    alignment_paths // list: [ reference, regions, phenotypes ] paths the --reads route needs (nulls without it)

    main:
    def schema_file = file("${projectDir}/nextflow_schema.json", checkIfExists: true)
    def schema      = readJson(schema_file)
    if (help) {
        log.info(helpText(schema, help))
        System.exit(0)
    }
    warnDeprecated(parameters, schema)
    if (validate_params) {
        validateParameters(parameters, schema, schema_file.text)
    }
    checkCombinations(parameters, schema)
    log.info(parameterSummary(parameters, schema))

    reads           = channel.empty()
    alignment_files = channel.empty()
    model           = channel.empty()
    if (reads_sheet) {
        // one row per sample; paths are relative to the samplesheet
        def sheet = file(reads_sheet, checkIfExists: true)
        input = channel.empty()
        reads = channel.fromList(readSamplesheet(sheet))
            .map { row -> [ [ id: row.sample ], [ samplesheetPath(row.fastq_1, sheet), samplesheetPath(row.fastq_2, sheet) ] ] }
        alignment_files = channel.value(alignment_paths.collect { path -> file(path, checkIfExists: true) })
    } else if (mode == 'train') {
        // one row per labelled file; paths are relative to the samplesheet, as for `seqclass build`
        def sheet = file(input_path, checkIfExists: true)
        input = channel.fromList(readSamplesheet(sheet))
            .map { row -> [ [ id: row.sample ], row.label ?: '', samplesheetPath(row.file, sheet) ] }
    } else {
        def sequence_files = files(input_path, checkIfExists: true).sort { path -> path.toString() }
        input = channel.fromList(predictionIds(sequence_files))
        model = channel.value(file(model_path, checkIfExists: true, type: 'dir'))
    }
    short_model = short_model_path ? channel.value(file(short_model_path, checkIfExists: true, type: 'dir')) : channel.value([])

    // the names are assigned in main: and emitted bare (docs/architecture.md, "Nextflow code")
    emit:
    input           // channel: train [ val(meta), val(label), path(file) ]; predict [ val(meta), path(file) ]; empty with --reads
    model           // channel: path(model dir) in predict mode, empty in train mode
    short_model     // channel: path(short-read model dir) with --short_model, else [] (a value channel)
    reads           // channel: [ val(meta), [ path(fastq_1), path(fastq_2) ] ] with --reads, else empty
    alignment_files // channel: [ path(reference), path(regions), path(phenotypes) ] with --reads, else empty
}

//
// Rules across parameters that the schema does not state; each stops the run with one line
//
def checkCombinations(Map parameters, Map schema) {
    def problems = []
    // a deprecated name and its replacement are one option: which value would win is not for us to guess
    deprecatedParameters(schema).each { name, replacement ->
        if (parameters[name] != null && parameters[replacement] != null) {
            problems << "--${name} is the deprecated name of --${replacement}: give only --${replacement}".toString()
        }
    }
    if (parameters.mode == 'predict' && !parameters.model) {
        problems << "--mode predict needs --model <model directory from a train run>"
    }
    if (parameters.short_model && parameters.mode != 'predict') {
        problems << "--short_model is for --mode predict; to train a short-read model beside the long one, give --short_window"
    }
    if (parameters.mode == 'predict' && (!parameters.input || parameters.reads)) {
        problems << "--mode predict needs --input (sequence files); aligned reads are scored by `seqclass predict --bam` (docs/usage.md)"
    }
    if (parameters.mode == 'train' && !parameters.input == !parameters.reads) {
        problems << "train mode needs one of --input (a samplesheet of labelled files) and --reads (a samplesheet of FASTQ pairs)"
    }
    if (parameters.reads && ![ parameters.reference, parameters.regions, parameters.phenotypes ].every()) {
        problems << "--reads needs --reference, --regions and --phenotypes"
    }
    // the AWS Batch parameters have no default (nextflow.config says why): containsKey, or a warning
    def aws_batch = 'awsbatch' in workflow.profile.tokenize(',')
    if (aws_batch && !(parameters.containsKey('awsqueue') && parameters.awsqueue)) {
        problems << "-profile awsbatch needs --awsqueue <AWS Batch job queue>"
    }
    if (aws_batch && workflow.workDir.scheme != 's3') {
        problems << "-profile awsbatch needs -work-dir s3://<bucket>/<path> (AWS Batch jobs share files through S3; here: ${workflow.workDir.toUriString()})"
    }
    if (problems) {
        error(problems.join('\n'))
    }
}

workflow PIPELINE_COMPLETION {

    take:
    outdir // string: params.outdir

    main:
    workflow.onComplete {
        completionMessage(outdir)
    }
}

// in a function: inside the onComplete closure `workflow` would name the closure's delegate
def completionMessage(outdir) {
    if (workflow.success) {
        log.info("seqclass: completed; results in ${outdir}, run reports in ${outdir}/pipeline_info")
    } else {
        log.error("seqclass: failed; see ${outdir}/pipeline_info and the .nextflow.log")
    }
}

// ---------------------------------------------------------------- input channels

//
// A samplesheet's path column as a file: absolute or a URI as given, otherwise relative to the
// samplesheet
//
def samplesheetPath(String path, sheet) {
    return file(relativeTo(path, sheet.parent), checkIfExists: true)
}

//
// A path as given when it is absolute or a URI, or when base is null; otherwise resolved against
// base as a path of base's own file system, so that s3://bucket/run/ and reads/a.fq give
// s3://bucket/run/reads/a.fq (a string of that path would lose its scheme)
//
def relativeTo(String value, base) {
    def given = value.trim()
    def absolute = given.startsWith('/') || given =~ /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//
    return base && !absolute ? base.resolve(given) : given
}

//
// [ [ id ], path ] per sequence file. The id is the file name without compression and format
// suffixes (`my contigs.fa.gz` → `my_contigs`); files that would share an id are told apart by
// as many of their folders' names as it takes (asm1/contigs.fa → asm1_contigs).
//
def predictionIds(List sequence_files) {
    def levels = (0..64).find { depth -> predictionIdsAt(sequence_files, depth).toSet().size() == sequence_files.size() } ?: 0
    return [ sequence_files, predictionIdsAt(sequence_files, levels) ].transpose().collect { pair -> [ [ id: pair[1] ], pair[0] ] }
}

def predictionIdsAt(List sequence_files, int depth) {
    def stems = sequence_files.collect { path -> path.name.replaceAll(/\.(gz|bz2)$/, '').replaceAll(/\.[^.]+$/, '') }
    return [ sequence_files, stems ].transpose().collect { pair ->
        def folders = pair[0].parent.toList().collect { name -> name.toString() }
        def prefix  = stems.count(pair[1]) > 1 ? folders.takeRight(depth) : []
        (prefix + [ pair[1] ]).join('_').replaceAll(/[^A-Za-z0-9._-]/, '_')
    }
}

//
// The rows of a CSV or TSV samplesheet with a header line, as maps; empty cells are left out
//
def readSamplesheet(sheet) {
    return sheet.splitCsv(header: true, strip: true, sep: samplesheetSeparator(sheet))
        .collect { row -> row.findAll { _column, value -> value } }
}

def samplesheetSeparator(sheet) {
    return sheet.name.replaceAll(/\.gz$/, '').endsWith('.tsv') ? '\t' : ','
}

// ---------------------------------------------------------------- parameter validation

//
// Stops the run, before any task, with one line per problem of the given parameters
//
def validateParameters(Map parameters, Map schema, String schema_text) {
    def given      = parameters.findAll { _name, value -> value != null }
    def properties = schemaProperties(schema)
    def problems   = unknownParameters(given.keySet(), properties.keySet())
    def result     = schemaValidator(null).validate(schema_text, groovy.json.JsonOutput.toJson(given))
    problems += result.errors
        .findAll { problem -> isCause(problem) }
        .collect { problem -> parameterProblem(problem, schema, properties, given) }
    if (problems) {
        error(problems.unique().join('\n'))
    }
}

//
// Whether a validation error is a cause to report. Not: a combining keyword's failure (it only says
// that a part of the schema failed, and that part reports why), nor the condition of an if/then/else
// (`if` not holding is no error; the library keeps what the condition found).
//
def isCause(problem) {
    def combining = [ 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', '$ref', 'properties', 'items', 'prefixItems', 'dependentSchemas' ]
    return !(problem.keyword in combining) && !(problem.evaluationPath =~ /\/if(\/|$)/)
}

//
// A parameter the schema does not know is a typo or a leftover: the run stops rather than
// ignoring it. Nextflow turns --kebab-case into camelCase, so both are compared as snake_case.
//
def unknownParameters(Set given, Set known) {
    return given.findAll { name -> !(name in known) }.collect { name ->
        def snake = name.replaceAll(/([A-Z])/, '_$1').toLowerCase().replace('-', '_')
        def close = known.min { candidate -> editDistance(snake, candidate) }
        def hint  = editDistance(snake, close) <= 2 ? "did you mean --${close}?" : 'nextflow run main.nf --help lists them'
        "--${name} is not a seqclass parameter (${hint})".toString()
    }
}

// Levenshtein distance: the fewest one-character edits that turn a into b
def editDistance(String a, String b) {
    def previous = (0..b.length()).toList()
    a.eachWithIndex { char_a, i ->
        def current = [ i + 1 ]
        b.eachWithIndex { char_b, j ->
            current << [ previous[j + 1] + 1, current[j] + 1, previous[j] + (char_a == char_b ? 0 : 1) ].min()
        }
        previous = current
    }
    return previous[-1]
}

//
// One line for one validation error: the schema's errorMessage where it has one, and the value given
//
def parameterProblem(problem, Map schema, Map properties, Map given) {
    if (problem.keyword == 'required') {
        def missing = schema['$defs'].values().collectMany { group -> group.required ?: [] }.findAll { name -> !given.containsKey(name) }
        return missing.collect { name -> "--${name} is required" }.join('\n')
    }
    def name     = jsonPointerParts(problem.instanceLocation)[0]
    def property = properties[name] ?: [:]
    if (problem.keyword == 'schema') {
        return problem.error
    }
    if (problem.keyword in [ 'exists', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum' ]) {
        return "--${name}: ${problem.error}"
    }
    if (property.errorMessage) {
        return "${property.errorMessage} (given: ${given[name]})"
    }
    if (problem.keyword == 'enum') {
        return "--${name} must be one of ${property['enum'].join(', ')} (given: ${given[name]})"
    }
    return "--${name}: ${problem.error} (given: ${given[name]})"
}

//
// The validator of the pipeline's schemas: JSON Schema by the library, plus nf-schema's keywords.
// Relative paths resolve against base_dir (a samplesheet's folder), or the launch folder for null.
//
def schemaValidator(base_dir) {
    def pipeline_keywords = { context, keyword, value ->
        def sibling = context.currentSchemaObject
        if (keyword == 'exists' && value.isBoolean() && value.asBoolean()) {
            def format = sibling.format?.isString() ? sibling.format.asString() : 'path'
            return Optional.of(pathEvaluator(format, base_dir))
        }
        if (keyword == 'schema' && value.isString()) {
            return Optional.of(samplesheetEvaluator(file("${projectDir}/${value.asString()}", checkIfExists: true)))
        }
        if (keyword == 'uniqueEntries' && value.isArray()) {
            return Optional.of(uniqueEntriesEvaluator(value.asArray().collect { column -> column.asString() }))
        }
        return Optional.empty()
    } as dev.harrel.jsonschema.EvaluatorFactory
    return new dev.harrel.jsonschema.ValidatorFactory().withEvaluatorFactory(pipeline_keywords)
}

def pathEvaluator(String format, base_dir) {
    return { _context, node ->
        def problem = node.isString() ? pathProblem(node.asString(), format, base_dir) : null
        problem ? dev.harrel.jsonschema.Evaluator.Result.failure(problem) : dev.harrel.jsonschema.Evaluator.Result.success()
    } as dev.harrel.jsonschema.Evaluator
}

//
// What is wrong with a path value of a `format`, or null: it must exist, as a file, a folder,
// either (path), or as at least one file matching a glob (file-path-pattern)
//
def pathProblem(String value, String format, base_dir) {
    def where = relativeTo(value, base_dir)
    if (format == 'file-path-pattern') {
        return files(where).any { path -> path.isFile() } ? null : "no file matches '${value}'"
    }
    def path = file(where, glob: false)
    def kind = format == 'directory-path' ? 'folder' : (format == 'file-path' ? 'file' : 'file or folder')
    if (!path.exists()) {
        return "no such ${kind}: '${value}'"
    }
    if (format == 'file-path' && path.isDirectory()) {
        return "'${value}' is a folder, not a file"
    }
    if (format == 'directory-path' && !path.isDirectory()) {
        return "'${value}' is a file, not a folder"
    }
    return null
}

//
// `schema`: the parameter names a samplesheet whose rows must match that schema; the failure
// lists one line per problem, naming the samplesheet line
//
def samplesheetEvaluator(sheet_schema_file) {
    return { _context, node ->
        def sheet = node.isString() ? file(node.asString(), glob: false) : null
        def problems = sheet?.isFile() ? samplesheetProblems(sheet, sheet_schema_file) : []
        problems ? dev.harrel.jsonschema.Evaluator.Result.failure(problems.join('\n')) : dev.harrel.jsonschema.Evaluator.Result.success()
    } as dev.harrel.jsonschema.Evaluator
}

def samplesheetProblems(sheet, sheet_schema_file) {
    def schema   = readJson(sheet_schema_file)
    def header   = samplesheetHeader(sheet)
    def missing  = (schema.items.required ?: []).findAll { column -> !(column in header) }
    if (missing) {
        return [ "${sheet.name}: no column ${missing.collect { column -> "'${column}'" }.join(', ')} (its header: ${header.join(',')})".toString() ]
    }
    def rows = readSamplesheet(sheet)
    if (!rows) {
        return [ "${sheet.name}: no rows below the header".toString() ]
    }
    def result = schemaValidator(sheet.parent).validate(sheet_schema_file.text, groovy.json.JsonOutput.toJson(rows))
    return result.errors
        .findAll { problem -> isCause(problem) }
        .collect { problem -> samplesheetLineProblem(problem, schema, rows, sheet) }
        .unique()
}

def samplesheetHeader(sheet) {
    def first = sheet.withReader { reader -> reader.readLine() } ?: ''
    return first.tokenize(samplesheetSeparator(sheet)).collect { column -> column.trim() }
}

// a row index i is line i + 2 of the file (line 1 is the header)
def samplesheetLineProblem(problem, Map schema, List rows, sheet) {
    def parts = jsonPointerParts(problem.instanceLocation)
    if (!parts) {
        return "${sheet.name}: ${problem.error}".toString()
    }
    def row    = parts[0] as int
    def column = parts.size() > 1 ? parts[1] : null
    def where  = "${sheet.name} line ${row + 2}" + (rows[row].sample ? " (sample '${rows[row].sample}')" : '')
    if (problem.keyword == 'required') {
        def empty = schema.items.required.findAll { name -> !rows[row][name] }
        return "${where}: no value in column ${empty.collect { name -> "'${name}'" }.join(', ')}".toString()
    }
    if (!column) {
        return "${where}: ${problem.error}".toString()
    }
    // a missing file is said as such; a malformed value in the column's own words
    def message = problem.keyword == 'exists' ? null : schema.items.properties[column]?.errorMessage
    return "${where}: ${message ?: "${column}: ${problem.error}"}".toString()
}

//
// `uniqueEntries`: no two rows share the values of these columns
//
def uniqueEntriesEvaluator(List columns) {
    return { _context, node ->
        def keys = node.isArray() ? node.asArray().collect { row -> columns.collect { column -> row.asObject()[column]?.toPrintableString() } } : []
        def repeated = keys.findAll { key -> keys.count(key) > 1 }.unique()
        def problems = repeated.collect { key ->
            def lines = keys.findIndexValues { other -> other == key }.collect { index -> index + 2 }
            "${columns.join(',')} '${key.join(',')}' is on more than one line (lines ${lines.join(', ')})"
        }
        problems ? dev.harrel.jsonschema.Evaluator.Result.failure(problems.join('; ')) : dev.harrel.jsonschema.Evaluator.Result.success()
    } as dev.harrel.jsonschema.Evaluator
}

// ---------------------------------------------------------------- deprecated parameters

//
// A renamed parameter keeps its old name for one release: `deprecated: true` and `hidden` in the
// schema, its description naming the new one ("use --lr"), and conf/modules.config passing its
// value as the new one's flag. name -> the name that replaces it
//
def deprecatedParameters(Map schema) {
    return schemaProperties(schema)
        .findAll { _name, property -> property.deprecated }
        .collectEntries { name, property -> [ (name): property.description?.find(/use --(\w+)/) { _match, replacement -> replacement } ] }
}

// one warning line per deprecated parameter given; its value is still used (conf/modules.config)
def warnDeprecated(Map parameters, Map schema) {
    deprecatedParameters(schema).each { name, replacement ->
        if (parameters[name] != null) {
            log.warn("--${name} is deprecated and will be removed in the next release; use --${replacement}")
        }
    }
}

// ---------------------------------------------------------------- the schema, for people

def readJson(json_file) {
    return new groovy.json.JsonSlurper().parse(json_file.toFile())
}

// every parameter's schema by name, across the groups of $defs
def schemaProperties(Map schema) {
    return schema['$defs'].values().collectEntries { group -> group.properties ?: [:] }
}

def jsonPointerParts(String pointer) {
    return pointer.tokenize('/').collect { part -> part.replace('~1', '/').replace('~0', '~') }
}

//
// --help: every parameter that is not hidden, by group; --help NAME: that parameter in full
//
def helpText(Map schema, help) {
    def properties = schemaProperties(schema)
    if (help instanceof String && help != 'true') {
        def property = properties[help]
        if (!property) {
            return "--${help} is not a seqclass parameter; nextflow run main.nf --help lists them"
        }
        return ([ "--${help}" ] + parameterLines(property) + (property.help_text ? [ '', property.help_text ] : [])).join('\n')
    }
    def lines = [ "${schema.title}", "  ${schema.description}", '',
                  'Usage: nextflow run main.nf -profile <local,docker,gpu,...> --input samplesheet.csv --outdir results', '' ]
    schema['$defs'].each { _id, group ->
        def visible = (group.properties ?: [:]).findAll { _name, property -> !property.hidden }
        if (visible) {
            lines << group.title
            visible.each { name, property ->
                lines << String.format('  --%-24s %-10s %s', name, "[${property.type instanceof List ? property.type.join('|') : property.type}]", property.description ?: '')
            }
            lines << ''
        }
    }
    lines << '--help <parameter> shows one parameter in full; docs/usage.md explains them all'
    return lines.join('\n')
}

def parameterLines(Map property) {
    return [
        "  ${property.description ?: ''}",
        "  type: ${property.type}" + (property['enum'] ? "; one of: ${property['enum'].join(', ')}" : ''),
        property.containsKey('default') ? "  default: ${property.default}" : '  default: none',
    ]
}

//
// The parameters that differ from their defaults, for the log of the run
//
def parameterSummary(Map parameters, Map schema) {
    def properties = schemaProperties(schema)
    def changed = parameters.findAll { name, value ->
        value != null && properties.containsKey(name) && !properties[name].hidden && value != properties[name].default
    }
    def width = (changed.keySet()*.length() + [ 1 ]).max()
    return ([ 'seqclass parameters (those not at their defaults):' ] +
        changed.collect { name, value -> String.format("  %-${width}s : %s", name, value) }).join('\n')
}
