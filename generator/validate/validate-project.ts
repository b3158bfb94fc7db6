/**
 * Runs every model rule over the analysed project and returns all problems of the run together.
 */
import { createDiagnostic, sortDiagnostics } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ProjectInfo } from "../model/model-info.js";
import type { ModelRule } from "./model-rule.js";
import { checkDictionaryKey } from "./rules/dictionary-key.js";
import { checkDuplicateDecorator } from "./rules/duplicate-decorator.js";
import { checkDuplicateModelName } from "./rules/duplicate-model-name.js";
import { checkDuplicatePersistedProperty } from "./rules/duplicate-persisted-property.js";
import { checkEmbeddedCycle } from "./rules/embedded-cycle.js";
import { checkEmbeddedPrimaryKey } from "./rules/embedded-primary-key.js";
import { checkEmptyMapTo } from "./rules/empty-map-to.js";
import { checkGeneratedNameCollision } from "./rules/generated-name-collision.js";
import { checkIgnoredWithDecorators } from "./rules/ignored-with-decorators.js";
import { checkIndexedType } from "./rules/indexed-type.js";
import { checkInvalidModelName } from "./rules/invalid-model-name.js";
import { checkInvalidPersistedName } from "./rules/invalid-persisted-name.js";
import { checkLinkToAsymmetric } from "./rules/link-to-asymmetric.js";
import { checkLinkDefault } from "./rules/link-default.js";
import { checkLiteralDefaultType } from "./rules/literal-default-type.js";
import { checkLinkToNonModel } from "./rules/link-to-non-model.js";
import { checkModelConstructor } from "./rules/model-constructor.js";
import { checkModelExtends } from "./rules/model-extends.js";
import { checkModelKindMissing } from "./rules/model-kind-missing.js";
import { checkModelNameLength } from "./rules/model-name-length.js";
import { checkModelNamePrefix } from "./rules/model-name-prefix.js";
import { checkMultiplePrimaryKeys } from "./rules/multiple-primary-keys.js";
import { checkNestedCollection } from "./rules/nested-collection.js";
import { checkNoPrimaryKey } from "./rules/no-primary-key.js";
import { checkOptionalCollection } from "./rules/optional-collection.js";
import { checkOptionalObjectInList } from "./rules/optional-object-in-list.js";
import { checkOptionalPrimaryKey } from "./rules/optional-primary-key.js";
import { checkPrimaryKeyNotId } from "./rules/primary-key-not-id.js";
import { checkPrimaryKeyType } from "./rules/primary-key-type.js";
import { checkPropertyNameLength } from "./rules/property-name-length.js";
import { checkRealmObjectKind } from "./rules/realm-object-kind.js";
import { checkRequiredEmbeddedLink } from "./rules/required-embedded-link.js";
import { checkSetOfEmbedded } from "./rules/set-of-embedded.js";
import { checkUnsupportedType } from "./rules/unsupported-type.js";

/** Every rule, in the order their reports are merged (the output is sorted by position anyway). */
export const modelRules: readonly ModelRule[] = [
  checkUnsupportedType,
  checkModelKindMissing,
  checkRealmObjectKind,
  checkModelNamePrefix,
  checkModelNameLength,
  checkInvalidModelName,
  checkDuplicateModelName,
  checkModelConstructor,
  checkModelExtends,
  checkNoPrimaryKey,
  checkMultiplePrimaryKeys,
  checkPrimaryKeyNotId,
  checkOptionalPrimaryKey,
  checkPrimaryKeyType,
  checkEmbeddedPrimaryKey,
  checkLinkToAsymmetric,
  checkLinkToNonModel,
  checkRequiredEmbeddedLink,
  checkLinkDefault,
  checkOptionalCollection,
  checkOptionalObjectInList,
  checkSetOfEmbedded,
  checkDictionaryKey,
  checkNestedCollection,
  checkEmbeddedCycle,
  checkEmptyMapTo,
  checkDuplicatePersistedProperty,
  checkPropertyNameLength,
  checkIndexedType,
  checkIgnoredWithDecorators,
  checkDuplicateDecorator,
  checkGeneratedNameCollision,
  checkInvalidPersistedName,
  checkLiteralDefaultType,
];

/** Runs all rules; a rule that throws becomes an ASYM9001 diagnostic and the others still run. */
export function validateProject(project: ProjectInfo): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (diagnostic: Diagnostic): void => {
    diagnostics.push(diagnostic);
  };
  for (const rule of modelRules) {
    try {
      rule(project, report);
    } catch (error) {
      diagnostics.push(
        createDiagnostic("internalError", {
          message: `asymgen failed internally while checking models (rule ${rule.name || "anonymous"}): ${error instanceof Error ? error.message : String(error)}`,
          hint: "this is a bug in asymgen; please report it with the model file that triggers it",
        }),
      );
    }
  }
  return sortDiagnostics(diagnostics);
}
