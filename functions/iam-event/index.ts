// placeholder until its issue lands
export const handler = async (): Promise<never> => {
  throw new Error("iam-event: not implemented");
};
