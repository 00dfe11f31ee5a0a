import type { ProcedureKind } from '../../file/catalogue.ts';
import { addressChange } from './address-change-form.ts';
import { incomeDeclaration } from './income-declaration-form.ts';
import type { ProcedureKindModule } from './kind.ts';
import { paymentCertificate } from './payment-certificate-form.ts';

/** The catalogue as the pages offer it, in this order. */
export const KIND_MODULES: Readonly<Record<ProcedureKind, ProcedureKindModule>> = {
  'address-change': addressChange,
  'income-declaration': incomeDeclaration,
  'payment-certificate': paymentCertificate,
};
