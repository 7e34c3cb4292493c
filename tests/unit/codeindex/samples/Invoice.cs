using System;
using System.Linq;

namespace Billing
{
    public class Invoice
    {
        public decimal TaxRate { get; set; }

        /// <summary>Total with tax.</summary>
        public decimal Total(decimal[] lines)
        {
            return lines.Sum() * (1 + TaxRate);
        }
    }
}
