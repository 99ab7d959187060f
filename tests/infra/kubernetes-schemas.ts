import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';

/** A model class: built from a manifest object, `validate()` throws on what its JSON schema rejects. */
export type ModelClass = new (data: never) => { validate(): void };

/** The models (and so the schemas) of the kinds the manifests use, by apiVersion and kind, with the module of their types. */
const MODELS: Record<string, { model: ModelClass; module: string }> = {
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace' },
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1/StatefulSet' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget' },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject' },
  'keda.sh/v1alpha1/TriggerAuthentication': { model: TriggerAuthentication, module: '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication' },
};

/** The model of an apiVersion and kind, if the manifests may use it. */
export function kubernetesModel(apiVersion: string, kind: string): (new (data: unknown) => { validate(): void }) | undefined {
  return MODELS[`${apiVersion}/${kind}`]?.model as (new (data: unknown) => { validate(): void }) | undefined;
}

/**
 * Kubernetes' OpenAPI schemas accept fields they do not define (the API server drops or, with
 * strict field validation, rejects them), so a misspelt field passes `validate()`. The same
 * package's TypeScript types do not: each object is type-checked as an object literal of its kind's
 * interface, where TypeScript reports every property the type does not declare.
 * @returns one line per problem, naming the object and the field.
 */
export function checkKubernetesTypes(objects: readonly Record<string, unknown>[]): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = join(here, '__manifests__.ts');
  const imports: string[] = [];
  const lines: string[] = [];
  const names: string[] = [];
  objects.forEach((object, i) => {
    const kind = String(object.kind);
    const entry = MODELS[`${String(object.apiVersion)}/${kind}`];
    names.push(`${kind} ${String((object.metadata as { name?: string } | undefined)?.name ?? '?')}`);
    if (!entry) {
      lines.push(`export const m${i}: never = ${JSON.stringify(object)}; // no model for this apiVersion and kind`);
      return;
    }
    imports.push(`import type { I${kind} as T${i} } from '${entry.module}';`);
    lines.push(`export const m${i}: T${i} = ${JSON.stringify(object, null, 1)};`);
  });
  const source = [...imports, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    // Which object: the declaration the error is in.
    const before = d.file.text.slice(0, d.start);
    const index = Number(/export const m(\d+)[^\n]*$/.exec(before.slice(before.lastIndexOf('export const m')))?.[1] ?? -1);
    return `${names[index] ?? d.file.fileName}: ${message}`;
  });
}
