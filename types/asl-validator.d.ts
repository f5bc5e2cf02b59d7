declare module "asl-validator" {
  interface ValidationResult {
    isValid: boolean;
    errors: { "Error code": string; Message: string }[];
    errorsText(separator?: string): string;
  }
  const validator: (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => ValidationResult;
  export default validator;
}
