/** Module types for the fonts imported by workers-pdf-fonts.ts (wrangler's Data rule for *.ttf). */
declare module "dejavu-fonts-ttf/ttf/DejaVuSans.ttf" {
  const data: ArrayBuffer;
  export default data;
}

declare module "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf" {
  const data: ArrayBuffer;
  export default data;
}
