// DataTransfer: a small registry of vendor ids this back end understands. Anything else
// is answered UnknownVendorId, as OCPP 1.6 asks.

export interface DataTransferReq {
  vendorId: string;
  messageId?: string;
  data?: string;
}

export interface DataTransferConf {
  status: 'Accepted' | 'Rejected' | 'UnknownMessageId' | 'UnknownVendorId';
  data?: string;
}

type VendorHandler = (req: DataTransferReq) => DataTransferConf;

const VENDORS = new Map<string, VendorHandler>([
  [
    'chargebench',
    (req) => {
      // "echo": answers the data it was given; lets a harness check the DataTransfer path.
      if (req.messageId === undefined || req.messageId === 'echo') {
        return req.data === undefined ? { status: 'Accepted' } : { status: 'Accepted', data: req.data };
      }
      return { status: 'UnknownMessageId' };
    },
  ],
]);

export function dataTransfer(req: DataTransferReq): DataTransferConf {
  const handler = VENDORS.get(req.vendorId);
  return handler ? handler(req) : { status: 'UnknownVendorId' };
}

export function knownVendors(): string[] {
  return [...VENDORS.keys()];
}
