/*
 * Renders the script:, stub: and when: sections of Nextflow processes with the real Groovy
 * engine, the way Nextflow does, for tests/test_module_smoke.py (no Nextflow runtime needed).
 *
 *   java -cp "<groovy-4 jars>/*" groovy.ui.GroovyMain render.groovy REPO_ROOT PARAMS_CONFIG...
 *
 * At start: `params` = the params { } blocks of PARAMS_CONFIG... (nextflow.config first, then
 * profile configs such as conf/test.config) evaluated in order with ConfigSlurper; then
 * conf/modules.config is evaluated with ConfigSlurper against those params, so that
 * task.ext.* are the real closures of the `withName:` blocks.
 *
 * Then one JSON request per stdin line, one answer per request on a stdout line that starts
 * with "@@nfrender " (an answer with "error" when the request failed):
 *   {"op": "params"}                      -> {"params": {...}}
 *   {"op": "describe", "module": FILE}    -> {"process", "sections", "inputs", "outputs"}
 *   {"op": "render", "module": FILE, "section": "script"|"stub", "process": "A:B:NAME",
 *    "cpus": 2, "inputs": {"meta": {...}, "files": ["/abs/x.fa", ...], ...}}
 *                                         -> {"script", "staged": [[stage name, source]...],
 *                                             "ext", "when", "inputs", "outputs"}
 * Values of `path` inputs are lists of absolute paths; they are staged under the names
 * Nextflow gives them (stageAs patterns with * and ?, TaskProcessor.expandWildcards), and the
 * script sees a Path for one file and a blank-separated list otherwise. GString values in the
 * sections go through applyPathEscapeAware as Nextflow's TaskCmdXform makes them do; the
 * rendered text is indent-stripped as Nextflow does before it writes .command.sh.
 */
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.nio.file.Path
import java.nio.file.Paths
import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.ClassHelper
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.expr.ClosureExpression
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.GStringExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.TupleExpression
import org.codehaus.groovy.ast.stmt.ExpressionStatement
import org.codehaus.groovy.ast.stmt.Statement
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.CompilationCustomizer

import static org.codehaus.groovy.ast.tools.GeneralUtils.args
import static org.codehaus.groovy.ast.tools.GeneralUtils.callX
import static org.codehaus.groovy.ast.tools.GeneralUtils.classX

// ------------------------------------------------------------------ Nextflow look-alikes

/** nextflow.util.BlankSeparatedList: a path input that received several files. */
class BlankSeparatedList extends ArrayList {
    BlankSeparatedList(Collection items) { super(items) }
    String toString() { join(' ') }
    String toStringEscape() { collect { NfLang.escapePath(it.toString()) }.join(' ') }
}

class NfLang {
    /** nextflow.util.Escape.path: a backslash before each of its SPECIAL_CHARS. */
    static final List<String> SPECIAL_CHARS = ["'", '"', ' ', '(', ')', '\\', '!', '&', '|', '<', '>', '`', ':', ';']

    static String escapePath(String s) {
        s.collect { String ch -> ch in SPECIAL_CHARS ? '\\' + ch : ch }.join('')
    }

    /** nextflow.ast.LangHelpers.applyPathEscapeAware: staged paths render escaped. */
    static Object applyPathEscapeAware(Object value) {
        if (value instanceof BlankSeparatedList) return value.toStringEscape()
        if (value instanceof Path) return escapePath(value.toString())
        return value
    }
}

/** nextflow.script.control.TaskCmdXformVisitor: every GString value goes through applyPathEscapeAware. */
class TaskCmdXform extends CompilationCustomizer {
    TaskCmdXform() { super(CompilePhase.SEMANTIC_ANALYSIS) }

    void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
        new GStringVisitor(source).visitClass(classNode)
    }
}

class GStringVisitor extends ClassCodeVisitorSupport {
    SourceUnit unit
    GStringVisitor(SourceUnit unit) { this.unit = unit }
    protected SourceUnit getSourceUnit() { unit }

    void visitGStringExpression(GStringExpression node) {
        def values = node.values
        for (int i = 0; i < values.size(); i++)
            values.set(i, callX(classX(ClassHelper.make(NfLang)), 'applyPathEscapeAware', args(values.get(i))))
        super.visitGStringExpression(node)
    }
}

// ------------------------------------------------------------------ input:/output: declarations

class Sym {
    String name
    String toString() { name }
}

class Decl {
    String kind
    Object target
    Map opts = [:]
    List items = []

    List<Decl> flat() { kind == 'tuple' ? items.collectMany { it instanceof Decl ? it.flat() : [] } : [this] }

    Map toJson() {
        [kind: kind, name: target == null ? null : target.toString(),
         opts: opts.collectEntries { k, v -> [(k.toString()): (v instanceof Boolean || v instanceof Number) ? v : v?.toString()] },
         items: items.findAll { it instanceof Decl }*.toJson()]
    }
}

/** Evaluates `tuple val(meta), path(x, stageAs: 'a/*'), emit: y` and friends into Decl objects. */
class DeclDsl {
    List<Decl> decls = []
    Map context = [:]  // names known when the section is evaluated (outputs: the task context)

    def propertyMissing(String name) { context.containsKey(name) ? context[name] : new Sym(name: name) }

    private Decl add(Decl d) { decls << d; d }
    Decl val(Object x) { add(new Decl(kind: 'val', target: x)) }
    Decl val(Map o, Object x) { add(new Decl(kind: 'val', target: x, opts: o)) }
    Decl path(Object x) { add(new Decl(kind: 'path', target: x)) }
    Decl path(Map o, Object x) { add(new Decl(kind: 'path', target: x, opts: o)) }
    Decl file(Object x) { path(x) }
    Decl file(Map o, Object x) { path(o, x) }
    Decl env(Object x) { add(new Decl(kind: 'env', target: x)) }
    Decl env(Map o, Object x) { add(new Decl(kind: 'env', target: x, opts: o)) }
    Decl eval(Object x) { add(new Decl(kind: 'eval', target: x)) }
    Decl eval(Map o, Object x) { add(new Decl(kind: 'eval', target: x, opts: o)) }
    Decl each(Object x) { add(new Decl(kind: 'each', target: x)) }
    Decl stdout(Map o = [:]) { add(new Decl(kind: 'stdout', opts: o)) }
    Decl stdin(Map o = [:]) { add(new Decl(kind: 'stdin', opts: o)) }
    Decl tuple(Object... items) { tuple([:], items) }
    Decl tuple(Map o, Object... items) {
        decls.removeAll { d -> items.any { it.is(d) } }
        add(new Decl(kind: 'tuple', items: items as List, opts: o))
    }
}

// ------------------------------------------------------------------ module sources

/** The process of a module file: name and the source text of each labelled section. */
Map parseModule(File file) {
    def src = file.getText('UTF-8')
    def unit = new CompilationUnit(new CompilerConfiguration())
    unit.addSource(file)
    unit.compile(Phases.CONVERSION)
    def module = unit.AST.modules[0]
    def found = []
    module.statementBlock.statements.each { Statement st ->
        if (!(st instanceof ExpressionStatement) || !(st.expression instanceof MethodCallExpression)) return
        MethodCallExpression call = st.expression
        if (call.methodAsString != 'process') return
        def inner = argsOf(call)[0]
        if (!(inner instanceof MethodCallExpression)) return
        def body = argsOf(inner)[-1]
        if (body instanceof ClosureExpression) found << [inner.methodAsString, body]
    }
    if (found.size() != 1) throw new IllegalStateException("${file}: expected one process, found ${found*.getAt(0)}")
    def (name, ClosureExpression body) = found[0]
    def lineStarts = [0]
    src.eachWithIndex { String c, int i -> if (c == '\n') lineStarts << i + 1 }
    def offset = { int line, int col -> lineStarts[line - 1] + col - 1 }
    def groups = [:]  // label -> statements; statements before the first label: 'directives'
    String current = 'directives'
    body.code.statements.each { Statement st ->
        if (st.statementLabels) current = st.statementLabels[-1]
        groups.computeIfAbsent(current) { [] } << st
    }
    // each section's text is padded to its place in the file, so errors name the module's lines
    def sections = groups.collectEntries { label, List<Statement> sts ->
        [label, '\n' * (sts[0].lineNumber - 1) + ' ' * (sts[0].columnNumber - 1)
                + src.substring(offset(sts[0].lineNumber, sts[0].columnNumber),
                                offset(sts[-1].lastLineNumber, sts[-1].lastColumnNumber))]
    }
    [process: name, sections: sections]
}

List argsOf(MethodCallExpression m) {
    def a = m.arguments
    a instanceof TupleExpression ? a.expressions : [a]
}

/** The text of every top-level `NAME { ... }` block of a config file. */
List<String> topLevelBlocks(File file, String name) {
    def src = file.getText('UTF-8')
    def unit = new CompilationUnit(new CompilerConfiguration())
    unit.addSource(file)
    unit.compile(Phases.CONVERSION)
    def lines = src.readLines()
    def out = []
    unit.AST.modules[0].statementBlock.statements.each { Statement st ->
        if (st instanceof ExpressionStatement && st.expression instanceof MethodCallExpression
                && st.expression.methodAsString == name && argsOf(st.expression)[-1] instanceof ClosureExpression) {
            out << lines[(st.lineNumber - 1)..(st.lastLineNumber - 1)].join('\n')
        }
    }
    out
}

/** Output declarations: names and emits as written, path patterns evaluated in the task context. */
List<Decl> outputDeclarations(String text, Map context) {
    def named = declarations(text, [:])
    def valued = declarations(text, context)
    def merge
    merge = { List a, List b ->
        a.eachWithIndex { d, int i ->
            if (!(d instanceof Decl)) return
            if (d.kind == 'path') d.target = b[i].target
            if (d.kind == 'tuple') merge(d.items, b[i].items)
        }
    }
    merge(named, valued)
    named
}

List<Decl> declarations(String text, Map context) {
    if (text == null) return []
    def dsl = new DeclDsl(context: context)
    Closure c = new GroovyShell(this.class.classLoader).evaluate("{ ->\n${text}\n}")
    c.delegate = dsl
    c.resolveStrategy = Closure.DELEGATE_FIRST
    c.call()
    dsl.decls
}

// ------------------------------------------------------------------ staging, as TaskProcessor does

String replaceQuestionMarks(String name, int index) {
    name.replaceAll(/\?+/) { String m -> String.valueOf(index).padLeft(m.size(), '0') }
}

String expandWildcards0(String path, String stageName, int index, int size) {
    int p = path.lastIndexOf('/')
    String parent = p == -1 ? null : path.substring(0, p)
    String name = p == -1 ? path : path.substring(p + 1)
    if (name == '*' || !name) {
        name = stageName
    } else {
        name = name.replaceAll(/\*/, size <= 1 ? '' : String.valueOf(index))
        name = replaceQuestionMarks(name, index)
    }
    if (parent) {
        parent = replaceQuestionMarks(parent.replaceAll(/\*/, String.valueOf(index)), index)
        return "${parent}/${name}".toString()
    }
    return name
}

List<String> expandWildcards(String pattern, List<String> names) {
    if (!names) return []
    if (!pattern || pattern == '*') return names
    if (!pattern.contains('*') && !pattern.contains('?') && names.size() > 1) pattern += '*'
    (0..<names.size()).collect { i -> expandWildcards0(pattern, names[i], i + 1, names.size()) }
}

// ------------------------------------------------------------------ config

Object plain(Object v) {
    if (v instanceof Map) return v.collectEntries { k, x -> [k.toString(), plain(x)] }
    if (v instanceof Collection) return v.collect { plain(it) }
    return v
}

Map loadParams(File root, List<String> configs) {
    def params = [:]
    configs.each { String rel ->
        topLevelBlocks(new File(root, rel), 'params').each { String block ->
            def slurper = new ConfigSlurper()
            slurper.setBinding([projectDir: root.path, baseDir: root.path, launchDir: root.path])
            def cfg = slurper.parse(block)
            // ConfigObject keys set to null stay keys: a param defaulting to null is defined
            cfg.params.each { k, v -> params[k] = v instanceof GString ? v.toString() : v }
        }
    }
    params
}

ConfigObject loadProcessConfig(File root, Map params) {
    def slurper = new ConfigSlurper()
    slurper.setBinding([params: params, projectDir: root.path, baseDir: root.path, launchDir: root.path])
    def cfg = slurper.parse(new File(root, 'conf/modules.config').toURI().toURL())
    cfg.get('process') ?: new ConfigObject()
}

/** task.ext.* for a process: the process-wide ext, then every matching withName: block. */
Map extFor(ConfigObject process, String simpleName, String fqName, Map context) {
    def entries = [:]
    def take = { ConfigObject block ->
        def ext = block.get('ext')
        if (ext instanceof Map) entries.putAll(ext)
    }
    take(process)
    process.each { key, value ->
        if (!(value instanceof ConfigObject) || key == 'ext') return
        String pattern = key.toString()
        boolean negate = pattern.startsWith('!')
        if (negate) pattern = pattern.substring(1)
        boolean hit = simpleName ==~ pattern || fqName ==~ pattern
        if (hit != negate) take(value)
    }
    entries.collectEntries { k, v ->
        def x = v
        if (v instanceof Closure) {
            Closure c = v.rehydrate(context, v.owner, v.thisObject)
            c.resolveStrategy = Closure.DELEGATE_FIRST
            x = c.call()
        }
        [k, x instanceof GString ? x.toString() : x]
    }
}

// ------------------------------------------------------------------ requests

File root = new File(args[0]).canonicalFile
List<String> paramConfigs = args.length > 1 ? args[1..-1] as List : ['nextflow.config']
Map params = loadParams(root, paramConfigs)
ConfigObject processConfig = loadProcessConfig(root, params)
def compilerConfig = new CompilerConfiguration()
compilerConfig.addCompilationCustomizers(new TaskCmdXform())

def describe = { Map req ->
    def mod = parseModule(new File(root, req.module as String))
    [process  : mod.process,
     sections : mod.sections.keySet() as List,
     inputs   : declarations(mod.sections.input as String, [:])*.toJson(),
     outputs  : declarations(mod.sections.output as String, [:])*.toJson()]
}

def render = { Map req ->
    def moduleFile = new File(root, req.module as String)
    def mod = parseModule(moduleFile)
    String section = req.section
    if (!mod.sections.containsKey(section)) throw new IllegalArgumentException("${req.module}: process ${mod.process} has no ${section}: section")
    def given = plain(req.inputs ?: [:]) as Map
    def inputs = declarations(mod.sections.input as String, [:]).collectMany { it.flat() }
    def declared = inputs.findAll { it.kind in ['val', 'path', 'env', 'each'] }*.target*.toString()
    def missing = declared - given.keySet()
    def extra = given.keySet() - declared
    if (missing || extra) throw new IllegalArgumentException("${mod.process} declares inputs ${declared}; missing ${missing}, unknown ${extra}")

    def context = [:]
    def staged = []
    inputs.each { Decl d ->
        String name = d.target.toString()
        def value = given[name]
        if (d.kind != 'path') { context[name] = value; return }
        List<String> sources = value == null ? [] : (value instanceof Collection ? value : [value]) as List<String>
        String pattern = (d.opts.stageAs ?: d.opts.name)?.toString()
        def names = expandWildcards(pattern, sources.collect { new File(it).name })
        names.eachWithIndex { String n, int i -> staged << [n, sources[i]] }
        context[name] = names.size() == 1 ? Paths.get(names[0]) : new BlankSeparatedList(names.collect { Paths.get(it) })
    }
    def clash = staged*.getAt(0).countBy { it }.findAll { k, v -> v > 1 }
    if (clash) throw new IllegalStateException("${mod.process}: input file name collision: ${clash.keySet()}")

    String fq = req.process ?: mod.process
    def task = [process: fq, name: "${mod.process} (${context.meta instanceof Map ? context.meta.id : 1})".toString(),
                cpus: req.cpus ?: 1, attempt: 1, index: 1, workDir: req.workDir]
    // an included alias (SEQCLASS_TRAIN as SEQCLASS_TRAIN_SHORT) is matched by withName under its alias
    def ext = extFor(processConfig, fq.tokenize(':')[-1], fq, context + [params: params, task: task])
    task.ext = ext
    def vars = context + [task: task, params: params, projectDir: root.path, baseDir: root.path,
                          moduleDir: moduleFile.parentFile.path, workflow: [containerEngine: null, profile: 'test']]

    def when = mod.sections.when == null ? true :
        new GroovyShell(this.class.classLoader, new Binding(new LinkedHashMap(vars)), compilerConfig).evaluate(mod.sections.when as String)
    def value = new GroovyShell(this.class.classLoader, new Binding(new LinkedHashMap(vars)), compilerConfig)
        .evaluate(mod.sections[section] as String, moduleFile.name)
    if (!(value instanceof CharSequence)) throw new IllegalStateException("${mod.process} ${section}: the section's last expression is ${value?.getClass()?.name}, not a string")
    String script = value.toString().stripIndent(true)
    [script  : script.endsWith('\n') ? script : script + '\n',
     staged  : staged,
     ext     : plain(ext),
     when    : when as boolean,
     inputs  : inputs*.toJson(),
     outputs : outputDeclarations(mod.sections.output as String, vars)*.toJson()]
}

def reader = new BufferedReader(new InputStreamReader(System.in, 'UTF-8'))
def out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, 'UTF-8')
String line
while ((line = reader.readLine()) != null) {
    if (!line.trim()) continue
    def answer
    try {
        Map req = new JsonSlurper().parseText(line) as Map
        switch (req.op) {
            case 'params': answer = [params: params]; break
            case 'describe': answer = describe(req); break
            case 'render': answer = render(req); break
            default: throw new IllegalArgumentException("unknown op ${req.op}")
        }
    } catch (Throwable e) {
        def sw = new StringWriter()
        e.printStackTrace(new PrintWriter(sw))
        answer = [error: "${e.getClass().name}: ${e.message}".toString(),
                  trace: sw.toString().readLines().findAll { it.contains('.nf') || it.contains('render.groovy') || !it.startsWith('\tat ') }.take(20).join('\n')]
    }
    out.println('@@nfrender ' + JsonOutput.toJson(plain(answer)))
}
