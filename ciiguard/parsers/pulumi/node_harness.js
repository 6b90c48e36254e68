"use strict";
// ciiguard's harness for Pulumi Node.js programs (TypeScript or JavaScript).
//
// Started by ciiguard as `node node_harness.js <spec JSON>` in the program's directory. It loads
// the project's own @pulumi/pulumi, replaces the engine with the SDK's mock runtime
// (pulumi.runtime.setMocks, preview mode), runs the program the way the SDK's own language host
// does (cmd/run: package.json entry points, tsconfig.json, the ts-node the SDK uses), and reports
// on stdout, one JSON object a line:
//   {"t":"resource", ...}   a resource the program registered, as the monitor received it
//   {"t":"invoke", id, ...} an invoke; ciiguard answers {"id", "result"} on stdin
//   {"t":"missing", key}    a required config key no stack file sets (answered with a stand-in)
//   {"t":"log", message}    the program logged an error
//   {"t":"transform", what} the program registered a resource transform (not applied)
//   {"t":"unprobed", ...}   an apply callback on an unknown failed on its stand-in (file, line)
//   {"t":"error", ...}      the program failed (message, file, line)
//   {"t":"done"}            every registration finished
// Everything the program itself prints goes to stderr, so it cannot forge a protocol line.
// Plain JavaScript, no build step, no dependencies beyond the project's node_modules.

const path = require("path");
const readline = require("readline");
const url = require("url");
const util = require("util");

const spec = JSON.parse(process.argv[2]);
const writeOut = process.stdout.write.bind(process.stdout);
const MISSING_MARK = "ciiguard:missing-config:";
const OUTPUT_MARK = "ciiguard:unknown-output"; // capture.OUTPUT_MARK

function send(message) {
    writeOut(JSON.stringify(message, (_k, v) => (v === undefined ? null : v)) + "\n");
}

// The program's own output must not reach the protocol stream.
process.stdout.write = (chunk, encoding, callback) => process.stderr.write(chunk, encoding, callback);
for (const name of ["log", "info", "debug", "warn"]) {
    console[name] = (...args) => process.stderr.write(util.format(...args) + "\n");
}

function ownCode(file) {
    const rel = path.relative(spec.projectDir, file);
    return !rel.startsWith("..") && !path.isAbsolute(rel) && !rel.split(path.sep).includes("node_modules");
}

function ownFrame(line) {
    // A stack line's position when it is in the project's own code, else null.
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(String(line).trim());
    if (!m) {
        return null;
    }
    const file = m[1].startsWith("file://") ? url.fileURLToPath(m[1]) : m[1];
    return ownCode(file) ? { file, line: Number(m[2]) } : null;
}

function where(err) {
    // The innermost frame inside the project (not its node_modules): where the program failed.
    const stack = err && typeof err.stack === "string" ? err.stack.split("\n") : [];
    for (const line of stack) {
        const found = ownFrame(line);
        if (found) {
            return found;
        }
    }
    return { file: null, line: null };
}

let failed = false;
function reportError(err) {
    if (failed) {
        return;
    }
    failed = true;
    const isError = err instanceof Error;
    const message = isError ? `${err.name}: ${err.message}` : `thrown value: ${util.inspect(err)}`;
    const missingKey = isError && err.constructor && err.constructor.name === "ConfigMissingError" ? err.key : null;
    send({ t: "error", message, missing_key: missingKey, ...where(err) });
}

let pulumiDir;
try {
    pulumiDir = path.dirname(require.resolve("@pulumi/pulumi", { paths: [spec.programDir, spec.projectDir] }));
} catch (_e) {
    send({ t: "fatal", what: "no-sdk" });
    process.exit(3);
}

const pulumi = require(pulumiDir);
const settings = require(path.join(pulumiDir, "runtime", "settings"));
const state = require(path.join(pulumiDir, "runtime", "state"));

// Invokes are answered by ciiguard (the same rules as for Python programs).
const pending = new Map();
let nextId = 0;
let activity = 0; // registrations and invokes so far: the program is idle when it stops growing
// stdin keeps Node's event loop alive only while an invoke waits for its answer, so the loop can
// drain once the program's own work is done (see the end of this file)
function holdStdin(hold) {
    const fn = hold ? process.stdin.ref : process.stdin.unref;
    if (typeof fn === "function") {
        fn.call(process.stdin);
    }
}
readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const reply = JSON.parse(line);
    const resolve = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) {
        holdStdin(false);
    }
    if (resolve) {
        resolve(reply.result || {});
    }
});
holdStdin(false);

function plainArgs(value, depth) {
    if (depth > 8 || value === undefined || typeof value === "function") {
        return null;
    }
    if (pulumi.Resource.isInstance(value)) {
        return null;
    }
    if (Array.isArray(value)) {
        return value.map((v) => plainArgs(v, depth + 1));
    }
    if (value && typeof value === "object") {
        const out = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = plainArgs(v, depth + 1);
        }
        return out;
    }
    return value;
}

function withoutResources(value) {
    if (pulumi.Resource.isInstance(value)) {
        return undefined;
    }
    if (Array.isArray(value)) {
        return value.map(withoutResources);
    }
    if (value && typeof value === "object" && !pulumi.asset.Asset.isInstance(value) && !pulumi.asset.Archive.isInstance(value)) {
        const out = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = withoutResources(v);
        }
        return out;
    }
    return value;
}

const mocks = {
    // Preview-like answers: inputs come back as state; everything else stays unknown.
    newResource(args) {
        return { id: args.id || undefined, state: withoutResources(args.inputs) };
    },
    call(args) {
        const id = nextId++;
        activity++;
        return new Promise((resolve) => {
            pending.set(id, resolve);
            holdStdin(true);
            send({ t: "invoke", id, token: args.token, args: plainArgs(args.inputs, 0), provider: args.provider || "" });
        });
    },
};

// Where a resource is made: the SDK reads frames "at name (file:line:column)" only, so an ES
// module's top-level frames ("at file:///dir/index.ts:3:1") gave no file or line. This reads both.
if (pulumi.Resource && pulumi.Resource.framePositionRegExp instanceof RegExp) {
    pulumi.Resource.framePositionRegExp =
        /^\s*at (?:[^(]* \()?(?:file:\/\/)?(?<file>[^()]*?):(?<line>[0-9]+):(?<column>[0-9]+)\)?$/;
}

// "organization" is the name Pulumi gives an individual account's organization.
pulumi.runtime.setMocks(mocks, spec.project, spec.stack, true, "organization");
// As for Python programs: a resource given as an input travels as its id/URN, never rehydrated.
state.getStore().supportsResourceReferences = false;

// Resource transforms: the mocks do not apply them, so what they change (a region, tags, a
// provider) would not be what ciiguard checks. Each is reported; the scan is then incomplete.
function noteStackTransform() {
    send({ t: "transform", what: "the program registers a stack-wide resource transform" });
}
// runtime/index copies runtime/stack's functions when it loads: both are replaced
for (const holder of [require(path.join(pulumiDir, "runtime", "stack")), pulumi.runtime]) {
    for (const name of ["registerResourceTransform", "registerStackTransform"]) {
        if (holder && typeof holder[name] === "function") {
            try {
                holder[name] = noteStackTransform;
            } catch (_e) {
                // a read-only export: that path stays unhooked
            }
        }
    }
}

const monitor = settings.getMonitor();
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req, callback) => {
    activity++;
    const object = req.getObject();
    if (req.getTransformsList && req.getTransformsList().length > 0) {
        send({
            t: "transform",
            what: `resource ${req.getType()} ${JSON.stringify(req.getName())} has resource transforms (the 'transforms' option)`,
        });
    }
    const deps = {};
    req.getPropertydependenciesMap().forEach((v, k) => {
        deps[k] = v.getUrnsList();
    });
    const providers = {};
    req.getProvidersMap().forEach((v, k) => {
        providers[k] = v;
    });
    // Where the program made the resource: the innermost frame in the project's own code.
    const positions = [];
    const trace = req.getStacktrace ? req.getStacktrace() : undefined;
    for (const frame of trace ? trace.getFramesList() : []) {
        positions.push(frame.getPc());
    }
    if (req.getSourceposition && req.getSourceposition()) {
        positions.push(req.getSourceposition());
    }
    let file = null;
    let line = null;
    for (const pos of positions) {
        if (!pos || !pos.getUri().startsWith("file://")) {
            continue;
        }
        const candidate = url.fileURLToPath(pos.getUri());
        if (ownCode(candidate)) {
            file = candidate;
            line = pos.getLine();
            break;
        }
    }
    send({
        t: "resource",
        type: req.getType(),
        name: req.getName(),
        urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
        parent: req.getParent(),
        provider: req.getProvider(),
        providers,
        custom: req.getCustom(),
        remote: req.getRemote(),
        inputs: object && typeof object.toJavaScript === "function" ? object.toJavaScript() : object,
        deps,
        file,
        line,
    });
    return registerResource(req, callback);
};

// Apply callbacks on outputs not known before deployment: a preview skips them (the SDK's
// documented behaviour), so a resource made inside one was never registered and passed. A
// callback the program's own code passes to apply runs on a stand-in value when its output is
// unknown; what it registers is checked, what it reads from the stand-in is unknown there, and
// its result stays unknown, as the SDK has it. One that fails on the stand-in is reported
// ("unprobed"). Known outputs, and callbacks the SDK or a library passes, run as they would.
function applyCaller() {
    // the frame that called apply: the program's own code, or null (the SDK, a library)
    const stack = String(new Error().stack || "").split("\n").slice(3);
    return stack.length ? ownFrame(stack[0]) : null;
}

function standIn(value, mark) {
    if (value === pulumi.unknown || value === undefined || value === null) {
        return mark;
    }
    if (Array.isArray(value)) {
        return value.map((v) => standIn(v, mark));
    }
    if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        const out = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = standIn(v, mark);
        }
        return out;
    }
    return value;
}
let standIns = 0; // each stand-in its own: names made of it differ

if (typeof pulumi.containsUnknowns === "function" && pulumi.unknown !== undefined
    && typeof pulumi.Output === "function" && typeof pulumi.Output.prototype.apply === "function") {
    const apply = pulumi.Output.prototype.apply;
    const unknownOutput = () => new pulumi.Output(
        new Set(), Promise.resolve(undefined), Promise.resolve(false), Promise.resolve(false),
        Promise.resolve(new Set()));
    pulumi.Output.prototype.apply = function (func, runWithUnknowns) {
        const site = runWithUnknowns || typeof func !== "function" ? null : applyCaller();
        if (site === null) {
            return apply.call(this, func, runWithUnknowns);
        }
        return apply.call(this, (value) => {
            if (value !== pulumi.unknown && !pulumi.containsUnknowns(value)) {
                return func(value);
            }
            const failedOn = (err) => send({
                t: "unprobed", file: site.file, line: site.line,
                error: (err && err.name ? err.name + ": " : "") + String(err && err.message !== undefined ? err.message : err).slice(0, 300),
            });
            try {
                const returned = func(standIn(value, `${OUTPUT_MARK}-${++standIns}`));
                if (returned && typeof returned.then === "function") {
                    returned.then(() => {}, failedOn);
                }
            } catch (err) {
                failedOn(err);
            }
            return unknownOutput();
        }, true);
    };
}

// A required key that no stack file sets is unknown (a stand-in ciiguard recognises), as for
// Python programs; numbers, flags and objects have no stand-in and fail with the key named.
const requireImpl = pulumi.Config.prototype.requireImpl;
pulumi.Config.prototype.requireImpl = function (key, secret, opts, use, insteadOf) {
    const v = this.getImpl(key, opts, use, insteadOf);
    if (v === undefined) {
        const full = this.fullKey(key);
        send({ t: "missing", key: full });
        return MISSING_MARK + full;
    }
    return requireImpl.call(this, key, secret, opts, use, insteadOf);
};

const log = require(path.join(pulumiDir, "log"));
const logError = log.error;
log.error = (message, ...rest) => {
    send({ t: "log", message: String(message) });
    return logError.call(log, message, ...rest);
};

process.env.PULUMI_NODEJS_TYPESCRIPT = spec.typescript ? "true" : "false";
process.env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
if (spec.tsconfig) {
    process.env.PULUMI_NODEJS_TSCONFIG_PATH = spec.tsconfig;
}

// cmd/run/index.js is the language host's entry point: it parses its own argv and connects to a
// real engine when loaded. run.js needs only a constant from it, so it is stood in for here.
const runIndex = path.join(pulumiDir, "cmd", "run", "index.js");
const exitCode = 32; // nodeJSProcessExitedAfterLoggingUserActionableMessage
require.cache[runIndex] = {
    id: runIndex,
    filename: runIndex,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: exitCode },
};
const run = require(path.join(pulumiDir, "cmd", "run", "run.js"));
const seen = new Set();
run.run(
    { _: [spec.main], pwd: spec.programDir },
    () => {},
    (err) => {
        seen.add(err);
        reportError(err);
    },
    (err) => seen.has(err),
)
    .then(() => {
        // Pulumi's language host runs until Node's event loop is empty, so work the program left
        // running still registers resources: a main() not awaited, beforeExit handlers (pulumi-aws
        // makes bucket notifications in one). Node says "beforeExit" each time the loop drains;
        // the program is finished when a drain follows no new registration or invoke.
        let seen = -1;
        process.on("beforeExit", () => {
            settings.waitForRPCs().then(() => {
                if (activity !== seen || pending.size > 0) {
                    seen = activity;
                    setImmediate(() => {}); // one more turn: the loop drains, beforeExit again
                    return;
                }
                if (!failed) {
                    send({ t: "done" });
                }
                process.exit(failed ? 1 : 0);
            }, (err) => {
                reportError(err);
                process.exit(1);
            });
        });
    })
    .catch((err) => {
        reportError(err);
        process.exit(1);
    });
